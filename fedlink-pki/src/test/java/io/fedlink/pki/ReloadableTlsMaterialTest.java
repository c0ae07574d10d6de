package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.ClientAuth;
import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.api.TlsMaterial;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * A JSSE echo server on loopback whose identity renews three times under continuous traffic: connections opened
 * before a renewal keep working on their session; every new connection sees the newest serial. Trust updates too.
 */
class ReloadableTlsMaterialTest {
    static final CertificateAuthority CA = CertificateAuthority.builder().commonName("fate.org CA").create();
    static final CertificateAuthority OTHER = CertificateAuthority.builder().commonName("other CA").create();

    /** A client connection and its line-based echo. */
    private record Conn(SSLSocket socket, PrivateWriter out, BufferedReader in) {
        String echo(String line) throws IOException {
            out.w.println(line);
            out.w.flush();
            return in.readLine();
        }

        BigInteger serverSerial() throws SSLException {
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }

    private record PrivateWriter(PrintWriter w) {}

    private static Conn connect(SSLContext client, int port) throws IOException {
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
        SSLSocket s = (SSLSocket) client.getSocketFactory().createSocket(plain, "10000.fate.org", port, true);
        s.setSoTimeout(10_000);
        s.startHandshake();
        return new Conn(s, new PrivateWriter(new PrintWriter(s.getOutputStream(), false, StandardCharsets.UTF_8)),
                new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)));
    }

    /** Accepts and echoes lines until closed. */
    private static void serve(SSLServerSocket ss, ExecutorService pool) {
        pool.submit(() -> {
            while (!ss.isClosed()) {
                Socket s;
                try {
                    s = ss.accept();
                } catch (IOException e) {
                    return;
                }
                pool.submit(() -> {
                    try (s; var in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                            StandardCharsets.UTF_8)); var out = new PrintWriter(s.getOutputStream(), true,
                            StandardCharsets.UTF_8)) {
                        for (String line = in.readLine(); line != null; line = in.readLine()) {
                            out.println(line);
                        }
                    } catch (IOException e) {
                        // the client went away
                    }
                });
            }
        });
    }

    @Test
    void threeRenewalsUnderTrafficKeepOldConnectionsAndShowNewSerials() throws Exception {
        IssuedCertificate first = CA.issue(CertificateRequest.party("10000", "fate.org"));
        ReloadableTlsMaterial live = ReloadableTlsMaterial.of(first.tlsMaterial());
        TlsMaterial clientMaterial = CA.issue(CertificateRequest.client("replicator-9999")).tlsMaterial();
        SSLContext client = clientMaterial.clientContext(); // one context: its session cache must not hide renewals
        ExecutorService pool = Executors.newCachedThreadPool();
        try (SSLServerSocket ss = (SSLServerSocket) live.serverContext(ClientAuth.REQUIRED).getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            serve(ss, pool);
            int port = ss.getLocalPort();
            Conn firstConn = connect(client, port);
            assertEquals(first.serial(), firstConn.serverSerial());
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong echoes = new AtomicLong();
            AtomicReference<Throwable> trafficError = new AtomicReference<>();
            Future<?> traffic = pool.submit(() -> {
                try {
                    for (long i = 0; !stop.get(); i++) {
                        assertEquals("m" + i, firstConn.echo("m" + i));
                        echoes.incrementAndGet();
                    }
                } catch (Throwable t) {
                    trafficError.set(t);
                }
            });
            List<Conn> open = new ArrayList<>(List.of(firstConn));
            List<BigInteger> serials = new ArrayList<>(List.of(first.serial()));
            for (int renewal = 1; renewal <= 3; renewal++) {
                long before = echoes.get();
                IssuedCertificate next = CA.issue(CertificateRequest.party("10000", "fate.org"));
                live.update(next.tlsMaterial());
                assertEquals(renewal, live.generation());
                Conn fresh = connect(client, port);
                assertEquals(next.serial(), fresh.serverSerial(), "a new connection after renewal " + renewal);
                for (int i = 0; i < open.size(); i++) {
                    Conn old = open.get(i);
                    if (old != firstConn) {
                        assertEquals("still here " + renewal, old.echo("still here " + renewal));
                    }
                    assertEquals(serials.get(i), old.serverSerial(), "an old connection keeps its session");
                }
                open.add(fresh);
                serials.add(next.serial());
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (echoes.get() < before + 20 && trafficError.get() == null && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                assertNull(trafficError.get(), "traffic on the first connection failed");
                assertTrue(echoes.get() >= before + 20, "traffic continued across renewal " + renewal);
            }
            stop.set(true);
            traffic.get(10, TimeUnit.SECONDS);
            assertNull(trafficError.get());
            for (Conn c : open) {
                c.socket().close();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void newHandshakesUseTheNewTrustAndTheShapeMustStay() throws Exception {
        IssuedCertificate server = CA.issue(CertificateRequest.party("10000", "fate.org"));
        ReloadableTlsMaterial trust = ReloadableTlsMaterial.of(TlsMaterial.builder().trust(CA.root()).build());
        SSLContext client = trust.clientContext();
        ExecutorService pool = Executors.newCachedThreadPool();
        try (SSLServerSocket ss = (SSLServerSocket) server.tlsMaterial().serverContext(ClientAuth.NONE)
                .getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            serve(ss, pool);
            Conn ok = connect(client, ss.getLocalPort());
            assertEquals("a", ok.echo("a"));
            trust.update(TlsMaterial.builder().trust(OTHER.root()).build());
            assertThrows(SSLException.class, () -> connect(client, ss.getLocalPort()),
                    "a server of the old CA is no longer trusted");
            assertEquals("b", ok.echo("b"), "the open connection is untouched");
            trust.update(TlsMaterial.builder().trust(CA.root(), OTHER.root()).build()); // a rollover bundle
            assertEquals(server.serial(), connect(client, ss.getLocalPort()).serverSerial());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> trust.update(server.tlsMaterial()));
            assertTrue(e.getMessage().contains("does not have the shape"), e.getMessage());
            ok.socket().close();
        } finally {
            pool.shutdownNow();
        }
    }
}
