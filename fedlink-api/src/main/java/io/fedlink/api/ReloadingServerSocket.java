package io.fedlink.api;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * A server socket of a {@link ReloadableTlsMaterial} context: it accepts plain TCP connections and layers TLS over
 * each from the delegate context current at accept time, so sockets accepted after an update present the new
 * identity (and a session of the old one cannot be resumed), while sockets accepted before keep theirs.
 */
final class ReloadingServerSocket extends SSLServerSocket {
    private final Supplier<SSLContext> delegate;
    private SSLParameters params = new SSLParameters();
    private boolean sessionCreation = true;

    ReloadingServerSocket(Supplier<SSLContext> delegate) throws IOException {
        this.delegate = delegate;
    }

    ReloadingServerSocket(Supplier<SSLContext> delegate, int port, int backlog, InetAddress address)
            throws IOException {
        super(port, backlog, address);
        this.delegate = delegate;
    }

    @Override
    public Socket accept() throws IOException {
        Socket plain = new Socket();
        implAccept(plain);
        try {
            SSLSocket s = (SSLSocket) delegate.get().getSocketFactory().createSocket(plain, null, true);
            s.setUseClientMode(false);
            s.setSSLParameters(ConfiguredSslContext.copy(params));
            s.setEnableSessionCreation(sessionCreation);
            return s;
        } catch (IOException | RuntimeException e) {
            plain.close();
            throw e;
        }
    }

    @Override
    public synchronized SSLParameters getSSLParameters() {
        return ConfiguredSslContext.copy(params);
    }

    @Override
    public synchronized void setSSLParameters(SSLParameters p) {
        params = ConfiguredSslContext.copy(p);
    }

    @Override
    public String[] getEnabledCipherSuites() {
        return getSSLParameters().getCipherSuites();
    }

    @Override
    public void setEnabledCipherSuites(String[] suites) {
        SSLParameters p = getSSLParameters();
        p.setCipherSuites(suites);
        setSSLParameters(p);
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return delegate.get().getSupportedSSLParameters().getCipherSuites();
    }

    @Override
    public String[] getSupportedProtocols() {
        return delegate.get().getSupportedSSLParameters().getProtocols();
    }

    @Override
    public String[] getEnabledProtocols() {
        return getSSLParameters().getProtocols();
    }

    @Override
    public void setEnabledProtocols(String[] protocols) {
        SSLParameters p = getSSLParameters();
        p.setProtocols(protocols);
        setSSLParameters(p);
    }

    @Override
    public void setNeedClientAuth(boolean need) {
        SSLParameters p = getSSLParameters();
        p.setNeedClientAuth(need);
        setSSLParameters(p);
    }

    @Override
    public boolean getNeedClientAuth() {
        return getSSLParameters().getNeedClientAuth();
    }

    @Override
    public void setWantClientAuth(boolean want) {
        SSLParameters p = getSSLParameters();
        p.setWantClientAuth(want);
        setSSLParameters(p);
    }

    @Override
    public boolean getWantClientAuth() {
        return getSSLParameters().getWantClientAuth();
    }

    @Override
    public void setUseClientMode(boolean mode) {
        if (mode) {
            throw new IllegalArgumentException("a fedlink server socket accepts in server mode only");
        }
    }

    @Override
    public boolean getUseClientMode() {
        return false;
    }

    @Override
    public synchronized void setEnableSessionCreation(boolean flag) {
        sessionCreation = flag;
    }

    @Override
    public synchronized boolean getEnableSessionCreation() {
        return sessionCreation;
    }

    @Override
    public String toString() {
        return "ReloadingServerSocket[" + getLocalSocketAddress() + "]";
    }
}
