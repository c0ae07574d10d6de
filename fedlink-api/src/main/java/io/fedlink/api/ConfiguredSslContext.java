package io.fedlink.api;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.KeyManagementException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * An {@link SSLContext} that applies fedlink's parameters (protocols, suites, endpoint identification, client
 * auth) to every engine and socket it creates, so a caller cannot forget them.
 */
final class ConfiguredSslContext extends SSLContext {

    private ConfiguredSslContext(Spi spi, SSLContext delegate) {
        super(spi, delegate.getProvider(), delegate.getProtocol());
    }

    static SSLContext client(SSLContext delegate, boolean verifyHostname) {
        return client(() -> delegate, false, verifyHostname);
    }

    /**
     * A client context over the delegate {@code current} returns at each new socket or engine; {@code reloading}
     * says that it may change.
     */
    static SSLContext client(Supplier<SSLContext> current, boolean reloading, boolean verifyHostname) {
        SSLContext delegate = current.get();
        SSLParameters p = base(delegate);
        if (verifyHostname) {
            p.setEndpointIdentificationAlgorithm("HTTPS");
        }
        return new ConfiguredSslContext(new Spi(current, reloading, p, true), delegate);
    }

    static SSLContext server(SSLContext delegate, ClientAuth clientAuth) {
        return server(() -> delegate, false, clientAuth);
    }

    /**
     * A server context over the delegate {@code current} returns at each new engine or accepted socket; with
     * {@code reloading}, server sockets accept plain connections and layer TLS from the then-current delegate.
     */
    static SSLContext server(Supplier<SSLContext> current, boolean reloading, ClientAuth clientAuth) {
        SSLContext delegate = current.get();
        SSLParameters p = base(delegate);
        p.setUseCipherSuitesOrder(true);
        if (clientAuth == ClientAuth.REQUIRED) {
            p.setNeedClientAuth(true);
        } else if (clientAuth == ClientAuth.OPTIONAL) {
            p.setWantClientAuth(true);
        }
        return new ConfiguredSslContext(new Spi(current, reloading, p, false), delegate);
    }

    /** A plain JDK TLS context with these managers ({@code null}: none). */
    static SSLContext initialised(KeyManager km, TrustManager tm) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(km == null ? null : new KeyManager[] {km}, tm == null ? new TrustManager[0] : new TrustManager[] {tm},
                    new SecureRandom());
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot build SSLContext: " + e.getMessage(), e);
        }
    }

    private static SSLParameters base(SSLContext delegate) {
        SSLParameters supported = delegate.getSupportedSSLParameters();
        SSLParameters p = delegate.getDefaultSSLParameters();
        p.setProtocols(intersect(TlsMaterial.PROTOCOLS, supported.getProtocols()));
        p.setCipherSuites(intersect(TlsMaterial.CIPHER_SUITES, supported.getCipherSuites()));
        return p;
    }

    private static String[] intersect(List<String> wanted, String[] available) {
        Set<String> have = new HashSet<>(Arrays.asList(available));
        return wanted.stream().filter(have::contains).toArray(String[]::new);
    }

    static SSLParameters copy(SSLParameters p) {
        SSLParameters c = new SSLParameters(p.getCipherSuites(), p.getProtocols());
        c.setEndpointIdentificationAlgorithm(p.getEndpointIdentificationAlgorithm());
        c.setUseCipherSuitesOrder(p.getUseCipherSuitesOrder());
        if (p.getNeedClientAuth()) {
            c.setNeedClientAuth(true);
        } else if (p.getWantClientAuth()) {
            c.setWantClientAuth(true);
        }
        return c;
    }

    private static final class Spi extends SSLContextSpi {
        private final Supplier<SSLContext> delegate;
        private final boolean reloading;
        private final SSLParameters params;
        private final boolean clientMode;

        Spi(Supplier<SSLContext> delegate, boolean reloading, SSLParameters params, boolean clientMode) {
            this.delegate = delegate;
            this.reloading = reloading;
            this.params = params;
            this.clientMode = clientMode;
        }

        private <T extends SSLEngine> T configure(T engine) {
            engine.setUseClientMode(clientMode);
            engine.setSSLParameters(copy(params));
            return engine;
        }

        private Socket configure(Socket s, boolean client) {
            if (s instanceof SSLSocket ssl) {
                ssl.setUseClientMode(client);
                ssl.setSSLParameters(copy(params));
            }
            return s;
        }

        @Override
        protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom sr) throws KeyManagementException {
            throw new KeyManagementException("fedlink SSLContexts come initialised from TlsMaterial");
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            return new SSLSocketFactory() {
                private final SSLSocketFactory first = delegate.get().getSocketFactory();

                private SSLSocketFactory f() {
                    return reloading ? delegate.get().getSocketFactory() : first;
                }

                @Override
                public String[] getDefaultCipherSuites() {
                    return params.getCipherSuites().clone();
                }

                @Override
                public String[] getSupportedCipherSuites() {
                    return f().getSupportedCipherSuites();
                }

                @Override
                public Socket createSocket() throws IOException {
                    return configure(f().createSocket(), true);
                }

                @Override
                public Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException {
                    return configure(f().createSocket(s, host, port, autoClose), true);
                }

                @Override
                public Socket createSocket(Socket s, InputStream consumed, boolean autoClose) throws IOException {
                    return configure(f().createSocket(s, consumed, autoClose), false);
                }

                @Override
                public Socket createSocket(String host, int port) throws IOException {
                    return configure(f().createSocket(host, port), true);
                }

                @Override
                public Socket createSocket(String host, int port, InetAddress localHost, int localPort)
                        throws IOException {
                    return configure(f().createSocket(host, port, localHost, localPort), true);
                }

                @Override
                public Socket createSocket(InetAddress host, int port) throws IOException {
                    return configure(f().createSocket(host, port), true);
                }

                @Override
                public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
                        throws IOException {
                    return configure(f().createSocket(address, port, localAddress, localPort), true);
                }
            };
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            SSLServerSocketFactory f = delegate.get().getServerSocketFactory();
            return new SSLServerSocketFactory() {
                private ServerSocket configure(ServerSocket s) {
                    SSLServerSocket ssl = (SSLServerSocket) s;
                    ssl.setSSLParameters(copy(params));
                    return ssl;
                }

                @Override
                public String[] getDefaultCipherSuites() {
                    return params.getCipherSuites().clone();
                }

                @Override
                public String[] getSupportedCipherSuites() {
                    return f.getSupportedCipherSuites();
                }

                @Override
                public ServerSocket createServerSocket() throws IOException {
                    return configure(reloading ? new ReloadingServerSocket(delegate) : f.createServerSocket());
                }

                @Override
                public ServerSocket createServerSocket(int port) throws IOException {
                    return createServerSocket(port, 50, null);
                }

                @Override
                public ServerSocket createServerSocket(int port, int backlog) throws IOException {
                    return createServerSocket(port, backlog, null);
                }

                @Override
                public ServerSocket createServerSocket(int port, int backlog, InetAddress ifAddress)
                        throws IOException {
                    return configure(reloading ? new ReloadingServerSocket(delegate, port, backlog, ifAddress)
                            : f.createServerSocket(port, backlog, ifAddress));
                }
            };
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            return configure(delegate.get().createSSLEngine());
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            return configure(delegate.get().createSSLEngine(host, port));
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            return delegate.get().getServerSessionContext();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            return delegate.get().getClientSessionContext();
        }

        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            return copy(params);
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            return delegate.get().getSupportedSSLParameters();
        }
    }
}
