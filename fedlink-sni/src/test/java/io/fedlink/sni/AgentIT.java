package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.AgentListenerConfig;
import io.fedlink.api.AgentStatus;
import io.fedlink.api.Endpoint;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TlsMaterial;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelServer;
import io.fedlink.api.Tunnels;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.IssuedCertificate;
import io.fedlink.pki.RevocationReason;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A party that opens no inbound port: its broker listens on 127.0.0.2 where only its agent reaches it, the agent
 * dials out to the proxy with the party's CA-issued certificate, and clients reach the broker through the proxy and
 * the agent. Real TLS throughout (the federation CA of fedlink-pki), real sockets.
 */
class AgentIT {
    static final String DOMAIN = "fate.org";
    static CertificateAuthority ca;
    static TlsMaterial proxyTls;
    static TlsMaterial party10000;
    static IssuedCertificate party10000Cert;
    static TlsMaterial party9999;
    static TlsMaterial broker10000;
    static InetAddress partyHost;

    private final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeAll
    static void pki() throws Exception {
        ca = CertificateAuthority.builder().commonName("fate.org CA").create();
        proxyTls = ca.issue(CertificateRequest.server("localhost").ip("127.0.0.1")).tlsMaterial();
        party10000Cert = ca.issue(CertificateRequest.party("10000", DOMAIN));
        party10000 = party10000Cert.tlsMaterial();
        party9999 = ca.issue(CertificateRequest.party("9999", DOMAIN)).tlsMaterial();
        broker10000 = ca.issue(CertificateRequest.server("10000." + DOMAIN)).tlsMaterial();
        partyHost = InetAddress.getByName("127.0.0.2");
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closing(T c) {
        closing.add(c);
        return c;
    }

    static RouteTable viaAgent(String party) {
        return RouteTable.of(PartyRoute.builder(party + "." + DOMAIN).agent(party).build());
    }

    private TunnelServer proxy(RouteHolder routes, ReloadableTlsMaterial tls) throws Exception {
        return proxy(routes, tls, 4);
    }

    private TunnelServer proxy(RouteHolder routes, ReloadableTlsMaterial tls, int agentsPerParty) throws Exception {
        return closing(Tunnels.server().bindLoopback(0).routes(routes).connectTimeout(Duration.ofSeconds(30))
                .agents(AgentListenerConfig.builder(new InetSocketAddress(Loopback.LOOPBACK, 0)).tls(tls)
                        .partyDomain(DOMAIN).handshakeTimeout(Duration.ofSeconds(2)).maxPendingConnections(8)
                        .maxAgentsPerParty(agentsPerParty).build())
                .start());
    }

    @Test
    void onePartyCannotTakeMoreThanItsShareOfAgentSlots() throws Exception {
        Loopback.Target broker = echoBroker();
        TunnelServer proxy = proxy(new RouteHolder(viaAgent("10000")), ReloadableTlsMaterial.of(proxyTls), 2);
        List<Agent> three = List.of(agent(party10000, broker.endpoint(), proxy),
                agent(party10000, broker.endpoint(), proxy), agent(party10000, broker.endpoint(), proxy));
        Loopback.await("one of three agents refused", 20, () -> refusals(proxy).get("agent_limit") >= 1);
        Loopback.await("the refusal reaches that agent", 20, () -> three.stream().anyMatch(a -> {
            String problem = a.status().get(0).problem();
            return problem != null && problem.contains("party 10000 has its limit of 2 agents here");
        }));
        assertEquals(2, proxy.agents().size(), proxy.agents().toString());
        Loopback.freshTunnel(proxy.localAddress(), "10000.fate.org");
    }

    private TunnelServer proxy(RouteTable routes) throws Exception {
        return proxy(new RouteHolder(routes), ReloadableTlsMaterial.of(proxyTls));
    }

    private Agent agent(TlsMaterial party, Endpoint target, TunnelServer... proxies) {
        Agent.Builder b = Agent.builder().tls(party).target(target).pool(2).pingInterval(Duration.ofMillis(500));
        for (TunnelServer p : proxies) {
            b.proxy(Endpoint.of("127.0.0.1", p.agentAddress().getPort()));
        }
        return closing(b.start());
    }

    /** Waits until the proxy has an agent of {@code party} holding a full pool. */
    static void awaitAgent(TunnelServer proxy, String party) throws InterruptedException {
        Loopback.await("an agent of " + party + " with idle data connections", 20, () -> proxy.agents().stream()
                .anyMatch(a -> a.party().equals(party) && a.pooled() == 2));
    }

    private Loopback.Target echoBroker() throws Exception {
        return closing(new Loopback.Target(partyHost, 0, s -> {
            byte[] b = new byte[16384];
            InputStream in = s.getInputStream();
            for (int n; (n = in.read(b)) > 0; ) {
                s.getOutputStream().write(b, 0, n);
            }
            s.shutdownOutput();
        }));
    }

    @Test
    void tunnelsThroughTheAgentCarryBytesBothWaysWithHalfClose() throws Exception {
        Loopback.Target broker = echoBroker();
        TunnelServer proxy = proxy(viaAgent("10000"));
        agent(party10000, broker.endpoint(), proxy);
        awaitAgent(proxy, "10000");
        for (int i = 0; i < 5; i++) { // more tunnels than the pool: the agent refills it as they are taken
            Loopback.freshTunnel(proxy.localAddress(), "10000.fate.org");
        }
        AgentStatus a = proxy.agents().get(0);
        assertEquals("10000", a.party());
        assertEquals(5, a.tunnels());
        assertEquals(5, broker.accepted.size(), "every tunnel reached the broker through the agent");
        assertEquals(0, proxy.stats().refusedTotal());
    }

    @Test
    void aRealTls13SessionRunsEndToEndFromClientToBroker() throws Exception {
        SSLServerSocket broker = (SSLServerSocket) broker10000.serverContext(io.fedlink.api.ClientAuth.NONE)
                .getServerSocketFactory().createServerSocket(0, 50, partyHost);
        closing(broker);
        Thread t = new Thread(() -> {
            try (SSLSocket s = (SSLSocket) broker.accept()) {
                byte[] line = new byte[5];
                new java.io.DataInputStream(s.getInputStream()).readFully(line);
                s.getOutputStream().write(("re:" + new String(line, StandardCharsets.US_ASCII)).getBytes());
                s.getOutputStream().flush();
            } catch (Exception e) {
                // the client's assertion fails
            }
        }, "tls-broker");
        t.setDaemon(true);
        t.start();
        TunnelServer proxy = proxy(viaAgent("10000"));
        agent(party10000, Endpoint.of("127.0.0.2", broker.getLocalPort()), proxy);
        awaitAgent(proxy, "10000");
        try (Socket raw = Loopback.connect(proxy.localAddress());
             SSLSocket s = (SSLSocket) TlsMaterial.builder().trust(ca.root()).build().clientContext()
                     .getSocketFactory().createSocket(raw, "10000.fate.org", raw.getPort(), true)) {
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName("10000.fate.org")));
            s.setSSLParameters(p);
            s.startHandshake();
            assertEquals("TLSv1.3", s.getSession().getProtocol());
            assertEquals(broker10000.certificate(), s.getSession().getPeerCertificates()[0],
                    "the client talks to the broker itself: neither proxy nor agent terminates TLS");
            s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            assertEquals("re:hello", new String(s.getInputStream().readNBytes(8), StandardCharsets.US_ASCII));
            // the broker answered through the tunnel, so it is open now: its target is the agent's data connection
            List<Tunnel> open = proxy.tunnels();
            assertEquals(1, open.size(), open.toString());
            assertEquals("127.0.0.1", open.get(0).target().host(), "the tunnel's target is the agent's connection");
        }
    }

    @Test
    void withoutAnAgentNewHellosAreRefusedAtOnceAndAgentRestartRestoresService() throws Exception {
        Loopback.Target broker = echoBroker();
        TunnelServer proxy = proxy(viaAgent("10000"));
        // connect timeout 30 s: a refusal that waited for it would fail the test's 20 s read timeout
        try (Socket s = Loopback.connect(proxy.localAddress())) {
            s.getOutputStream().write(Hellos.jsse("10000.fate.org"));
            assertEquals(-1, s.getInputStream().read(), "closed without a tunnel");
        }
        assertEquals(1, proxy.stats().refused(RefusalReason.AGENT_UNAVAILABLE));

        Agent first = agent(party10000, broker.endpoint(), proxy);
        awaitAgent(proxy, "10000");
        Loopback.freshTunnel(proxy.localAddress(), "10000.fate.org");
        first.close(); // the agent process dies
        Loopback.await("the agent's departure", 20, () -> proxy.agents().isEmpty());
        try (Socket s = Loopback.connect(proxy.localAddress())) {
            s.getOutputStream().write(Hellos.jsse("10000.fate.org"));
            assertEquals(-1, s.getInputStream().read(), "closed without a tunnel");
        }
        assertEquals(2, proxy.stats().refused(RefusalReason.AGENT_UNAVAILABLE));

        agent(party10000, broker.endpoint(), proxy); // restarted: no proxy restart needed
        awaitAgent(proxy, "10000");
        Loopback.freshTunnel(proxy.localAddress(), "10000.fate.org");
    }

    @Test
    void oneAgentServesTwoProxies() throws Exception {
        Loopback.Target broker = echoBroker();
        TunnelServer a = proxy(viaAgent("10000"));
        TunnelServer b = proxy(viaAgent("10000"));
        agent(party10000, broker.endpoint(), a, b);
        awaitAgent(a, "10000");
        awaitAgent(b, "10000");
        Loopback.freshTunnel(a.localAddress(), "10000.fate.org");
        Loopback.freshTunnel(b.localAddress(), "10000.fate.org");
    }

    @Test
    void thePartyIsWhatItsCertificateSaysAndOnlyARoutedPartyMayConnect() throws Exception {
        Loopback.Target broker = echoBroker();
        TunnelServer proxy = proxy(viaAgent("10000"));
        // 9999 is a real party of the CA, but no route is served by its agent: it cannot serve 10000's name
        Agent intruder = agent(party9999, broker.endpoint(), proxy);
        // an operator's client certificate from the same CA is no party at all
        Agent operator = agent(ca.issue(CertificateRequest.client("root")).tlsMaterial(), broker.endpoint(), proxy);
        // a certificate from another CA fails the handshake
        TlsMaterial stranger = CertificateAuthority.builder().commonName("other CA").create()
                .issue(CertificateRequest.party("10000", DOMAIN)).tlsMaterial().toBuilder()
                .trust(ca.root()).build();
        Agent forger = agent(stranger, broker.endpoint(), proxy);
        Loopback.await("three refusals", 20, () -> refusals(proxy).get("no_agent_route") >= 1
                && refusals(proxy).get("not_a_party") >= 1 && refusals(proxy).get("tls_failed") >= 1);
        assertTrue(proxy.agents().isEmpty(), "no agent admitted: " + proxy.agents());
        Loopback.await("the refusals reach the agents", 20, () -> intruder.status().get(0).problem() != null
                && operator.status().get(0).problem() != null && forger.status().get(0).problem() != null);
        assertTrue(intruder.status().get(0).problem().contains("no route sends connections to the agent of party"
                + " 9999"), intruder.status().get(0).problem());
        assertTrue(operator.status().get(0).problem().contains("does not name exactly one party"),
                operator.status().get(0).problem());
    }

    @Test
    void routeRemovalAndRevocationCutTheAgentOff() throws Exception {
        Loopback.Target broker = echoBroker();
        RouteHolder routes = new RouteHolder(viaAgent("10000"));
        ReloadableTlsMaterial tls = ReloadableTlsMaterial.of(proxyTls.toBuilder().trust(ca.root()).build());
        TunnelServer proxy = proxy(routes, tls);
        Agent agent = agent(party10000, broker.endpoint(), proxy);
        awaitAgent(proxy, "10000");

        routes.swap(RouteTable.empty()); // the party was removed from the registry
        Loopback.await("the agent cut off after its route left", 5, () -> proxy.agents().isEmpty());
        assertTrue(refusals(proxy).get("cut_off") >= 1);

        routes.swap(viaAgent("10000")); // back; the agent redials by itself
        awaitAgent(proxy, "10000");
        Loopback.freshTunnel(proxy.localAddress(), "10000.fate.org");

        ca.revokeIfValid(party10000Cert.certificate().getSerialNumber(), RevocationReason.CESSATION_OF_OPERATION);
        tls.update(tls.current().withCrls(List.of(ca.crl(Duration.ofDays(1)))));
        Loopback.await("the agent cut off after its certificate was revoked", 5, () -> proxy.agents().isEmpty());
        Loopback.await("the revoked agent is refused when it redials", 20,
                () -> refusals(proxy).get("tls_failed") >= 1);
        assertTrue(proxy.agents().isEmpty());
        assertNotNull(agent.status().get(0).problem());
    }

    @Test
    void hostileBytesOnTheAgentPortAreRefusedAndCounted() throws Exception {
        TunnelServer proxy = proxy(viaAgent("10000"));
        InetSocketAddress port = proxy.agentAddress();
        try (Socket s = Loopback.connect(port)) { // neither TLS nor a data connection
            s.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertClosed(s);
        }
        try (Socket s = Loopback.connect(port)) { // a data connection with a token nobody announced
            OutputStream out = s.getOutputStream();
            out.write(AgentProtocol.dataPreamble(new byte[AgentProtocol.TOKEN_BYTES]));
            assertClosed(s);
        }
        List<Socket> silent = new ArrayList<>(); // more silent connections than may wait: refused beyond the cap
        for (int i = 0; i < 12; i++) {
            silent.add(closing(Loopback.connect(port)));
        }
        // at most 8 wait (the cap); the others are refused at once; the waiting ones time out. (A slot freed a moment
        // after its connection closed may still be taken, so only the sum is exact.)
        Loopback.await("pending cap and handshake deadline", 20, () -> refusals(proxy).get("pending_limit") >= 4
                && refusals(proxy).get("pending_limit") + refusals(proxy).get("handshake_timeout") == 12);
        Map<String, Long> r = refusals(proxy);
        assertEquals(2, r.get("protocol") + r.get("bad_token"), r.toString());
        assertTrue(r.get("bad_token") >= 1, r.toString());
        silent.forEach(AgentIT::closeQuietly);
        // a real party that skips the protocol's first line: refused, counted as a protocol breach, told why
        try (SSLSocket s = (SSLSocket) party10000.clientContext().getSocketFactory().createSocket("127.0.0.1",
                port.getPort())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("TOKEN " + "ab".repeat(16) + "\n").getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            assertEquals("NO this proxy speaks agent protocol 1", AgentProtocol.readLine(s.getInputStream()));
        }
        Loopback.await("the breach counted", 20, () -> refusals(proxy).get("protocol") == r.get("protocol") + 1);
        // the agent port still serves a real agent
        Loopback.Target broker = echoBroker();
        agent(party10000, broker.endpoint(), proxy);
        awaitAgent(proxy, "10000");
        Loopback.freshTunnel(proxy.localAddress(), "10000.fate.org");
    }

    static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (java.io.IOException e) {
            // test cleanup
        }
    }

    /** The proxy closed {@code s}: end of stream, or a reset (it closed with our bytes unread). */
    static void assertClosed(Socket s) throws Exception {
        try {
            assertEquals(-1, s.getInputStream().read());
        } catch (java.net.SocketException e) {
            assertTrue(String.valueOf(e.getMessage()).contains("reset"), e.toString());
        }
    }

    static Map<String, Long> refusals(TunnelServer proxy) {
        return proxy.agentRefusals();
    }
}
