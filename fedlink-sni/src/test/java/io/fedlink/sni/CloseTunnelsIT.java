package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.fedlink.api.ClientAuth;
import io.fedlink.api.CloseReason;
import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TlsMaterial;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.math.BigInteger;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.management.JMX;
import javax.management.ObjectName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TunnelServer#closeTunnels}: real TLS clients through the proxy to real TLS servers, one of which rotates its
 * certificate under a live context (as Pulsar does when it re-reads its files). Closing the tunnels of that name ends
 * exactly those connections; the client's next connection makes a full handshake and sees the new certificate,
 * while the other name's connection carries on. On loopback sockets here, in a {@link MemoryNetwork} in
 * {@link CloseTunnelsInMemoryIT}.
 */
class CloseTunnelsIT extends ProxyFixture {
    @TempDir
    static Path dir;
    static TlsMaterial first10000;
    static TlsMaterial second10000;
    static TlsMaterial party9999;
    static TlsMaterial partyEu;
    static SSLContext clientContext;
    ReloadableTlsMaterial live10000;
    TunnelServer proxy;
    final List<Conn> opened = new ArrayList<>();

    @BeforeAll
    static void identities() throws Exception {
        Files.createDirectories(dir.resolve("second"));
        TlsMaterial a1 = TestCerts.identity(dir, "10000.fate.org");
        TlsMaterial a2 = TestCerts.identity(dir.resolve("second"), "10000.fate.org"); // the rotated certificate
        TlsMaterial b = TestCerts.identity(dir, "9999.fate.org");
        TlsMaterial c = TestCerts.identity(dir, "client.fate.org");
        TlsMaterial eu = TestCerts.identity(dir, "x.eu.fate.org");
        first10000 = TestCerts.trusting(a1, c);
        second10000 = TestCerts.trusting(a2, c);
        party9999 = TestCerts.trusting(b, c);
        partyEu = TestCerts.trusting(eu, c);
        clientContext = TestCerts.trusting(c, a1, a2, b, eu).clientContext(); // one context: sessions are cached
    }

    @BeforeEach
    void start() throws Exception {
        live10000 = ReloadableTlsMaterial.of(first10000);
        Loopback.Target server10000 = serve(live10000.serverContext(ClientAuth.OPTIONAL), "10000");
        Loopback.Target server9999 = serve(party9999.serverContext(ClientAuth.OPTIONAL), "9999");
        Loopback.Target serverEu = serve(partyEu.serverContext(ClientAuth.OPTIONAL), "eu");
        proxy = proxy(RouteTable.builder()
                .add("10000.fate.org", server10000.endpoint())
                .add("*.eu.fate.org", serverEu.endpoint())
                .add("9999.fate.org", server9999.endpoint())
                .build(), b -> { });
    }

    /** A TLS server answering each line with its party id, the serial of the certificate it presented and the line. */
    private Loopback.Target serve(SSLContext context, String party) throws IOException {
        return keep(net.target(TestCerts.tlsLines(context, (s, line) -> party + " "
                + ((X509Certificate) s.getSession().getLocalCertificates()[0]).getSerialNumber().toString(16)
                + " " + line)));
    }

    @AfterEach
    void closeClients() throws Exception {
        for (Conn c : opened) {
            c.socket.close();
        }
        Loopback.await("the tunnels of this test to end", 20, () -> proxy.tunnels().isEmpty());
    }

    /** A TLS client connection through the proxy. */
    private record Conn(SSLSocket socket, BufferedReader in, PrintWriter out) {
        String ask(String line) throws IOException {
            out.println(line);
            return in.readLine();
        }

        BigInteger peerSerial() throws IOException {
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        }

        /** Waits (bounded by the socket timeout) until the connection ends: EOF or an error, never a timeout. */
        void assertEnded() {
            try {
                String line = in.readLine();
                assertEquals(null, line, "the connection should have ended");
            } catch (SocketTimeoutException e) {
                fail("the connection did not end within the read timeout");
            } catch (IOException e) {
                // ended: the TLS layer saw the TCP connection close without close_notify
            }
        }
    }

    private Conn open(String name) throws IOException {
        Socket plain = net.connect(proxy.localAddress());
        SSLSocket s = (SSLSocket) clientContext.getSocketFactory().createSocket(plain, name, 443, true);
        Conn c = new Conn(s, new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)),
                new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8));
        opened.add(c);
        s.startHandshake();
        return c;
    }

    private List<Tunnel> tunnelsOf(String name) {
        return proxy.tunnels().stream().filter(t -> name.equals(t.serverName())).toList();
    }

    @Test
    void closingOneNameMakesItsClientsReconnectWithTheNewCertificateAndLeavesTheOtherName() throws Exception {
        long rotatedBefore = proxy.stats().closed(CloseReason.ROTATED);
        Conn a = open("10000.fate.org");
        Conn a2 = open("10000.fate.org");
        Conn b = open("9999.fate.org");
        BigInteger oldSerial = first10000.certificate().getSerialNumber();
        assertEquals("10000 " + oldSerial.toString(16) + " one", a.ask("one"));
        assertEquals("10000 " + oldSerial.toString(16) + " two", a2.ask("two"));
        assertTrue(b.ask("three").startsWith("9999 "));
        Loopback.await("three tunnels listed", 10, () -> proxy.tunnels().size() == 3);
        List<Tunnel> of10000 = tunnelsOf("10000.fate.org");
        assertEquals(2, of10000.size());

        live10000.update(second10000); // the target rotates: only new handshakes see the new certificate
        assertEquals("10000 " + oldSerial.toString(16) + " still old", a.ask("still old"),
                "an open connection keeps the certificate it negotiated");

        assertEquals(2, proxy.closeTunnels(t -> "10000.fate.org".equals(t.serverName())));

        a.assertEnded();
        a2.assertEnded();
        for (Tunnel t : of10000) {
            assertFalse(t.isOpen());
            assertEquals(CloseReason.ROTATED, t.closeReason());
        }
        assertTrue(b.ask("untouched").startsWith("9999 "), "the other name's tunnel carries on");
        assertEquals(1, proxy.tunnels().size());

        Conn again = open("10000.fate.org"); // what a reconnecting client does
        BigInteger newSerial = second10000.certificate().getSerialNumber();
        assertNotEquals(oldSerial, newSerial);
        assertEquals(newSerial, again.peerSerial(), "a full handshake: the new certificate, not a resumed session");
        assertFalse(Arrays.equals(a.socket.getSession().getId(), again.socket.getSession().getId()),
                "a new TLS session");
        assertEquals("10000 " + newSerial.toString(16) + " new", again.ask("new"));

        assertEquals(rotatedBefore + 2, proxy.stats().closed(CloseReason.ROTATED));
    }

    /** The tunnels closed by closeTunnels are counted as ROTATED in the proxy's MBean. */
    @Test
    void closedTunnelsAreCountedOverJmx() throws Exception {
        net.assumeReal("a proxy in memory registers no MBean (its address is only a label in its network)");
        Conn b = open("9999.fate.org");
        assertTrue(b.ask("x").startsWith("9999 "));
        Loopback.await("one tunnel listed", 10, () -> proxy.tunnels().size() == 1);
        assertEquals(1, proxy.closeTunnels(t -> true));
        ObjectName mbean = ManagementFactory.getPlatformMBeanServer().queryNames(
                new ObjectName("io.fedlink:type=SniProxy,*"), null).stream()
                .filter(n -> n.toString().contains(":" + proxy.localAddress().getPort())).findFirst().orElseThrow();
        Map<String, Long> closed = JMX.newMXBeanProxy(ManagementFactory.getPlatformMBeanServer(), mbean,
                SniProxyMXBean.class).getClosed();
        assertEquals(1L, closed.get("ROTATED"));
    }

    @Test
    void selectingByRouteEntryAndAll() throws Exception {
        Conn eu = open("x.eu.fate.org");
        Conn b = open("9999.fate.org");
        assertTrue(eu.ask("eu").startsWith("eu "));
        assertTrue(b.ask("b").startsWith("9999 "));
        Loopback.await("two tunnels listed", 10, () -> proxy.tunnels().size() == 2);

        assertEquals(1, proxy.closeTunnels(t -> t.route() != null && "*.eu.fate.org".equals(t.route().serverName())));
        eu.assertEnded();
        assertTrue(b.ask("still").startsWith("9999 "), "other route entry: untouched");

        assertEquals(1, proxy.closeTunnels(t -> true));
        b.assertEnded();
        assertEquals(0, proxy.closeTunnels(t -> true), "nothing left to close");
    }

    @Test
    void aSelectorThatFailsClosesNothing() throws Exception {
        Conn b = open("9999.fate.org");
        assertTrue(b.ask("x").startsWith("9999 "));
        Loopback.await("one tunnel listed", 10, () -> proxy.tunnels().size() == 1);
        assertThrows(IllegalStateException.class, () -> proxy.closeTunnels(t -> {
            throw new IllegalStateException("broken selector");
        }));
        assertTrue(b.ask("y").startsWith("9999 "), "nothing was closed");
    }
}
