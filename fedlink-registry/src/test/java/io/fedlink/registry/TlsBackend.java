package io.fedlink.registry;

import io.fedlink.api.ClientAuth;
import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * Every party's broker in one TLS server for tests: a {@code *.fate.org} certificate, and each connection answered
 * with the server name the client asked for, so a client learns which route the proxy took; then every line the
 * client sends is echoed until it closes (a live tunnel).
 */
final class TlsBackend implements AutoCloseable {
    private final SSLServerSocket server;
    private final TlsMaterial client;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "tls-backend");
        t.setDaemon(true);
        return t;
    });

    TlsBackend() throws IOException {
        CertificateAuthority ca = CertificateAuthority.builder().commonName("party CA").create();
        TlsMaterial server = ca.issue(CertificateRequest.server("*.fate.org")).tlsMaterial();
        this.client = ca.issue(CertificateRequest.client("client")).tlsMaterial();
        this.server = (SSLServerSocket) server.serverContext(ClientAuth.NONE).getServerSocketFactory()
                .createServerSocket(0, 200, InetAddress.getLoopbackAddress());
        pool.execute(this::accept);
    }

    int port() {
        return server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                SSLSocket s = (SSLSocket) server.accept();
                pool.execute(() -> answer(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void answer(SSLSocket s) {
        try (s) {
            s.setSoTimeout(10_000);
            s.startHandshake();
            String name = ((ExtendedSSLSession) s.getSession()).getRequestedServerNames().stream()
                    .map(n -> ((SNIHostName) n).getAsciiName()).findFirst().orElse("none");
            PrintWriter out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8);
            out.println(name);
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) {
                out.println(line);
            }
        } catch (IOException e) {
            // a refused or aborted handshake: nothing to answer
        }
    }

    /** Dials the proxy at {@code proxyPort} asking for {@code name}; returns the backend's answer. */
    String dial(int proxyPort, String name) throws IOException {
        try (SSLSocket s = open(proxyPort, name)) {
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }

    /** A TLS connection through the proxy at {@code proxyPort} for {@code name}, handshake done (the caller closes it). */
    SSLSocket open(int proxyPort, String name) throws IOException {
        return open(proxyPort, name, InetAddress.getLoopbackAddress());
    }

    /** As {@link #open(int, String)}, from the local address {@code from} (a loopback address: 127.0.0.2...). */
    SSLSocket open(int proxyPort, String name, InetAddress from) throws IOException {
        Socket plain = new Socket();
        plain.bind(new InetSocketAddress(from, 0));
        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), proxyPort), 5000);
        plain.setSoTimeout(10_000);
        SSLSocket s = (SSLSocket) client.clientContext().getSocketFactory().createSocket(plain, name, 443, true);
        try {
            s.startHandshake();
            return s;
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        pool.shutdownNow();
    }
}
