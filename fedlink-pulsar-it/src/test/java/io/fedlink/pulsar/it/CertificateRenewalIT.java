package io.fedlink.pulsar.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.fedlink.api.PemCodec;
import io.fedlink.api.TlsMaterial;
import io.fedlink.api.TunnelServer;
import io.fedlink.pki.CaFolder;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.EnrollmentAuthority;
import io.fedlink.pki.KeyType;
import io.fedlink.pki.enroll.EnrollmentClient;
import io.fedlink.pki.enroll.EnrollmentServer;
import io.fedlink.pki.enroll.PartyFiles;
import io.fedlink.pki.enroll.Renewer;
import io.fedlink.pulsar.BrokerTlsConfig;
import io.fedlink.pulsar.FederationAdmin;
import io.fedlink.pulsar.PartyClients;
import io.fedlink.federation.PulsarRouteTable;
import io.fedlink.api.TlsFiles;
import io.fedlink.sni.SniProxy;
import io.fedlink.sni.SniYaml;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15's real-peer proof: two parties' Pulsar 4.0.7 brokers (separate JVMs, TLS with client certificates and
 * hostname verification) replicate both ways through the fedlink SNI proxy on certificates that live
 * {@link #LIFETIME} (30 s). Each party enrolled its own key with a one-time token at an {@link EnrollmentServer};
 * its library {@link Renewer} renews at about two thirds of the lifetime into the {@link PartyFiles} layout, which
 * the broker ({@code tlsCertRefreshCheckDurationSec}), its replication client
 * ({@code brokerClient_autoCertRefreshSeconds}) and the party's own Java clients ({@code autoCertRefreshSeconds})
 * read through {@code current/...} and re-read every {@value #REFRESH_SECONDS} s. Nothing is restarted.
 *
 * <p>A producer at each party publishes continuously; a consumer at the other party counts what replication
 * delivers. For every renewal: a new TLS handshake through the proxy (SNI {@code <party>.fate.org}) must present
 * the new serial (the broker refreshed), then {@code closeTunnels} for that name makes the other party's replicator
 * and the party's own clients reconnect, and replication must carry a message published after the close in both
 * directions. Once the certificates a round replaced have expired, every tunnel is closed: replication resuming
 * then proves that every new handshake, server and client side (replicators included), used a renewed certificate,
 * as an expired one is refused. After two such rounds the CA rolls over ({@link CaFolder#rollover}), both parties
 * renew under the new root (trust: both roots), the old root retires, both renew again (trust: the new root only),
 * and at the end every certificate presented chains to the new root, {@code openssl verify} agreeing. Finally every
 * acknowledged send must have been received on the other side. The renewal timeline is printed as
 * {@code MEASURE} lines.
 */
class CertificateRenewalIT {
    static final Duration LIFETIME = Duration.ofSeconds(30);
    static final int REFRESH_SECONDS = 2;
    static final String DOMAIN = "fate.org";
    static final String A = "10000";
    static final String B = "9999";
    static final Map<String, String> ADDRESS = Map.of(A, "127.0.0.2", B, "127.0.0.3");
    static final String NAMESPACE = "session-1";

    @TempDir
    Path dir;
    final long t0 = System.nanoTime();
    final List<AutoCloseable> closeAfter = new ArrayList<>();
    final BlockingQueue<Renewal> renewals = new LinkedBlockingQueue<>();
    final Map<String, X509Certificate> latest = new ConcurrentHashMap<>();
    final Map<String, PartyFiles> files = new ConcurrentHashMap<>();
    final Map<String, TlsMaterial> enrolled = new ConcurrentHashMap<>();
    final Map<String, List<X509Certificate>> history = new ConcurrentHashMap<>();
    final Map<String, Flow> flows = new ConcurrentSkipListMap<>(); // by producing party (read by renewer hooks)
    final Map<String, Broker> brokers = new ConcurrentHashMap<>();
    TunnelServer proxy;
    double brokersReadyAt;
    Path caDir;

    /** One renewal as the renewer's hook saw it. */
    record Renewal(String party, X509Certificate cert, List<X509Certificate> chain, List<X509Certificate> trust,
                   X509Certificate previous, double atSeconds) {}

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable c : List.copyOf(closeAfter)) { // stop the traffic and the renewals first
            if (c instanceof Flow || c instanceof Renewer) {
                c.close();
                closeAfter.remove(c);
            }
        }
        List<Thread> stopping = new ArrayList<>(); // both brokers shut down at once
        for (Broker b : brokers.values()) {
            Thread t = new Thread(() -> {
                try {
                    b.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "stop-" + b.party);
            t.start();
            stopping.add(t);
            closeAfter.remove(b);
        }
        for (Thread t : stopping) {
            t.join(60_000);
        }
        for (int i = closeAfter.size() - 1; i >= 0; i--) {
            try {
                closeAfter.get(i).close();
            } catch (Exception e) {
                System.out.println("closing " + closeAfter.get(i) + ": " + e);
            }
        }
    }

    double seconds() {
        return (System.nanoTime() - t0) / 1e9;
    }

    void measure(String line) {
        System.out.printf("MEASURE t=%.1fs %s%n", seconds(), line);
    }

    static String name(String party) {
        return party + "." + DOMAIN;
    }

    static String serial(X509Certificate c) {
        return c.getSerialNumber().toString(16);
    }

    static String other(String party) {
        return A.equals(party) ? B : A;
    }

    @Test
    void replicationRunsAcrossRenewalsAndACaRolloverWithNoMessageLost() throws Exception {
        // The CA side: a CA folder, its enrollment server (HTTPS), a policy of 30 s certificates.
        caDir = dir.resolve("ca");
        CaFolder.of(caDir, null).create(CertificateAuthority.builder().commonName("fate.org federation CA")
                .permitDns(DOMAIN).permitIp("127.0.0.0/8").create());
        X509Certificate oldRoot = CaFolder.of(caDir, null).load().root();
        EnrollmentAuthority authority = EnrollmentAuthority.forFolder(caDir, null, DOMAIN, LIFETIME);
        EnrollmentServer server = EnrollmentServer.start(authority,
                CertificateRequest.server("ca." + DOMAIN).ip("127.0.0.1").days(1),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), EnrollmentServer.Limits.DEFAULT);
        closeAfter.add(server);
        EnrollmentClient client = new EnrollmentClient(URI.create("https://127.0.0.1:" + server.address().getPort()));

        // Each party: its own key, a one-time token, then its renewer (started at once: the first certificate
        // may renew while the brokers start).
        TlsMaterial caTrust = TlsMaterial.builder().trust(oldRoot).build();
        for (String party : List.of(A, B)) {
            String token = CaFolder.of(caDir, null).createToken(party, Duration.ofMinutes(5));
            PartyFiles pf = new PartyFiles(dir.resolve("tls-" + party));
            pf.write(client.enroll(caTrust, token, party, DOMAIN, KeyType.EC_P256, LIFETIME));
            files.put(party, pf);
            enrolled.put(party, pf.read());
            latest.put(party, pf.read().certificate());
            measure("enrolled party=" + party + " serial=" + serial(latest.get(party)) + " notAfter="
                    + latest.get(party).getNotAfter().toInstant());
        }
        for (String party : List.of(A, B)) {
            Renewer r = Renewer.of(client, files.get(party), LIFETIME, m -> onRenewed(party, m))
                    .backoff(Duration.ofSeconds(1), Duration.ofSeconds(4));
            r.start();
            closeAfter.add(r);
        }

        // The proxy, and both brokers reading their files through current/.
        int proxyPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            proxyPort = s.getLocalPort();
        }
        proxy = SniProxy.builder().bindLoopback(proxyPort).eventLoops(2).routes(SniYaml.parse("sni:\n"
                + "  - fqdn: " + name(A) + "\n    tunnel_route: " + ADDRESS.get(A) + ":6651\n"
                + "  - fqdn: " + name(B) + "\n    tunnel_route: " + ADDRESS.get(B) + ":6651\n")).start();
        closeAfter.add(proxy);
        Path hosts = dir.resolve("hosts");
        Files.writeString(hosts, "127.0.0.1 localhost " + StarNetworkIT.localHostName() + "\n"
                + ADDRESS.get(A) + " " + name(A) + "\n" + ADDRESS.get(B) + " " + name(B) + "\n");
        for (String party : List.of(A, B)) {
            Path conf = dir.resolve("conf-" + party);
            Files.createDirectories(conf);
            Files.writeString(conf.resolve("standalone-tls.conf"), BrokerTlsConfig.text(BrokerTlsConfig.clusterLines(
                    party)) + BrokerTlsConfig.text(BrokerTlsConfig.lines(tlsFiles(party), true))
                    + "tlsCertRefreshCheckDurationSec=" + REFRESH_SECONDS + "\n"
                    + "brokerClient_autoCertRefreshSeconds=" + REFRESH_SECONDS + "\n");
            Broker b = Broker.start(party, ADDRESS.get(party), dir.resolve("broker-" + party), conf, proxyPort, hosts);
            brokers.put(party, b);
            closeAfter.add(b);
        }
        for (Broker b : brokers.values()) {
            b.awaitReady(Duration.ofSeconds(180));
        }
        brokersReadyAt = seconds();
        measure("brokers ready");
        for (String party : List.of(A, B)) {
            try (PulsarAdmin admin = PulsarAdmin.builder().serviceHttpUrl(brokers.get(party).adminUrl()).build()) {
                PulsarRouteTable table = PulsarRouteTable.parse("\"" + party + "\":\n  host: \"" + ADDRESS.get(party)
                        + "\"\n  port: 6650\n  sslPort: 6651\ndefault:\n  proxy: \"127.0.0.1:" + proxyPort
                        + "\"\n  domain: \"" + DOMAIN + "\"\n");
                new FederationAdmin(admin, table, party).replicatedNamespace(NAMESPACE, Set.of(other(party)));
            }
        }

        // Continuous traffic: a producer at each party, a consumer at the other.
        for (String party : List.of(A, B)) {
            Flow f = new Flow(party, other(party), clientFor(party, proxyPort), clientFor(other(party), proxyPort));
            flows.put(party, f);
            closeAfter.add(f);
        }
        for (Flow f : flows.values()) {
            f.start();
        }
        for (Flow f : flows.values()) {
            await(f + " delivers", Duration.ofSeconds(120), () -> f.received.size() >= 20);
        }
        measure("traffic flowing " + counts());
        int before = renewals.size();
        renewals.clear(); // renewals while the brokers started: in the timeline, not counted
        measure("renewals before the traffic started: " + before);

        // Two renewal rounds under the first root.
        round("round 1", r -> signedBy(r.cert(), oldRoot));
        // The expiry argument of the rounds holds for client certificates too: a broker refuses the enrolled, now
        // expired certificate of the other party (same root, only expired) on a new handshake, and accepts its
        // current one.
        for (String party : List.of(A, B)) {
            TlsMaterial current = files.get(other(party)).read();
            TlsMaterial expired = TlsMaterial.builder().identity(enrolled.get(other(party)).privateKey(),
                    enrolled.get(other(party)).certificateChain()).trust(current.trustAnchors()).build();
            assertTrue(clientCertificateAccepted(party, current), "broker " + party + " accepts "
                    + other(party) + "'s current certificate");
            assertTrue(!clientCertificateAccepted(party, expired), "broker " + party + " refuses "
                    + other(party) + "'s expired certificate " + serial(expired.certificate()));
            measure("client-certificate check at broker " + party + ": current " + serial(current.certificate())
                    + " accepted, expired " + serial(expired.certificate()) + " refused");
        }

        round("round 2", r -> signedBy(r.cert(), oldRoot));

        // CA rollover: a new root issues; parties renew under it (trust: both roots), the old root retires.
        X509Certificate newRoot = CaFolder.of(caDir, null).rollover(null, null, 3650);
        measure("ca-rollover newRoot=\"" + newRoot.getSubjectX500Principal().getName() + "\" serial="
                + serial(newRoot) + " " + counts());
        round("round 3 (new root, overlap)", r -> signedBy(r.cert(), newRoot)
                && r.trust().equals(List.of(newRoot, oldRoot)));
        List<String> retired = CaFolder.of(caDir, null).retire(true, false, Instant.now());
        measure("ca-retire oldRoot serial=" + serial(oldRoot) + " revokedSuperseded="
                + retired.stream().filter(l -> l.startsWith("==> Revoked ")).count() + " " + counts());
        round("round 4 (new root only)", r -> signedBy(r.cert(), newRoot) && r.trust().equals(List.of(newRoot))
                && r.chain().size() == 1);

        // At the end every certificate presented on a new handshake chains to the new root alone.
        for (String party : List.of(A, B)) {
            TlsMaterial mine = files.get(other(party)).read();
            TlsMaterial newRootOnly = TlsMaterial.builder().identity(mine.privateKey(), mine.certificateChain())
                    .trust(newRoot).build();
            List<X509Certificate> chain = presented(party, newRootOnly);
            assertTrue(history.get(party).contains(chain.get(0)), "broker " + party + " presents a certificate its "
                    + "renewer wrote: " + serial(chain.get(0))); // the latest, or the one before when it just renewed
            assertEquals(1, chain.size(), "no cross-signed certificate after the retirement");
            assertTrue(signedBy(chain.get(0), newRoot));
            Path rootPem = dir.resolve("new-root.pem");
            Files.writeString(rootPem, PemCodec.certificates(List.of(newRoot)));
            Path leaf = dir.resolve("presented-" + party + ".pem");
            Files.writeString(leaf, PemCodec.certificates(chain));
            openssl("verify", "-CAfile", rootPem.toString(), leaf.toString());
            openssl("verify", "-CAfile", rootPem.toString(), files.get(party).current(PartyFiles.CERT).toString());
            assertEquals(List.of(newRoot), PemCodec.readCertificates(Files.readString(
                    files.get(party).current(PartyFiles.CA))), party + "'s trust file holds the new root only");
            measure("final party=" + party + " presented serial=" + serial(chain.get(0)) + " issuer=\""
                    + chain.get(0).getIssuerX500Principal().getName() + "\" openssl verify -CAfile new-root: OK");
        }

        // No message lost: every acknowledged send reached the other party.
        for (Flow f : flows.values()) {
            f.stopProducing();
        }
        for (Flow f : flows.values()) {
            await(f + " drains", Duration.ofSeconds(90), () -> f.missing().isEmpty());
        }
        for (Flow f : flows.values()) {
            measure("messages " + f + ": acknowledged sends=" + f.acked() + " failed sends=" + f.failed.get()
                    + " received distinct=" + f.received.size() + " duplicates=" + f.duplicates.get()
                    + " missing=" + f.missing().size());
            assertEquals(0, f.failed.get(), f + ": failed sends, first: " + f.firstFailure.get());
            assertEquals(List.of(), f.missing(), f + ": acknowledged but never received");
        }
        measure("done in " + String.format("%.1fs", seconds()) + " (brokers started in " + String.format("%.1fs",
                brokersReadyAt) + "): " + proxy.stats());
    }

    /** The renewer's hook: records the renewal for the main thread. */
    void onRenewed(String party, TlsMaterial m) {
        X509Certificate previous = latest.put(party, m.certificate());
        history.computeIfAbsent(party, k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(m.certificate());
        Renewal r = new Renewal(party, m.certificate(), m.certificateChain(), m.trustAnchors(), previous, seconds());
        measure("renewed party=" + party + " serial=" + serial(m.certificate()) + " previous="
                + (previous == null ? "-" : serial(previous)) + " issuer=\""
                + m.certificate().getIssuerX500Principal().getName() + "\" trust=" + m.trustAnchors().size()
                + " chain=" + m.certificateChain().size() + " " + counts());
        renewals.add(r);
    }

    /**
     * Waits for a renewal of each party that {@code counts}, rotating each renewal seen (new handshake shows the
     * new serial, that party's tunnels closed, replication resumes), then, once the replaced certificates have
     * expired, closes every tunnel and requires replication to resume both ways.
     */
    void round(String label, Predicate<Renewal> counts) throws Exception {
        measure("begin " + label);
        Map<String, X509Certificate> replaced = new HashMap<>();
        long deadline = System.nanoTime() + LIFETIME.multipliedBy(3).toNanos();
        while (replaced.size() < 2) {
            long left = deadline - System.nanoTime();
            Renewal r = renewals.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
            if (r == null) {
                fail(label + ": no renewal of " + (replaced.containsKey(A) ? B : A) + " within "
                        + LIFETIME.multipliedBy(3) + "; renewals so far: " + latest);
            }
            rotate(r);
            if (counts.test(r)) {
                replaced.put(r.party(), r.previous());
            } else {
                measure("(" + label + ": renewal of " + r.party() + " serial " + serial(r.cert())
                        + " does not count for this round)");
            }
        }
        Instant expired = replaced.values().stream().map(c -> c.getNotAfter().toInstant()).max(Instant::compareTo)
                .orElseThrow().plusSeconds(1);
        await("the replaced certificates expire", Duration.between(Instant.now(), expired).plusSeconds(5),
                () -> Instant.now().isAfter(expired));
        Map<String, Long> marks = marks();
        long at = System.nanoTime();
        int closed = proxy.closeTunnels(t -> true);
        awaitResumed(marks, label + ": after the replaced certificates expired and every tunnel closed");
        measure("expired-and-reconnected " + label + " replaced=" + replaced.entrySet().stream()
                .map(e -> e.getKey() + ":" + serial(e.getValue())).toList() + " tunnelsClosed=" + closed
                + " resumedAfterMs=" + (System.nanoTime() - at) / 1_000_000 + " " + counts());
    }

    /** New handshakes to the renewed broker show the new serial; its tunnels close; replication resumes. */
    void rotate(Renewal r) throws Exception {
        long begin = System.nanoTime();
        String party = r.party();
        X509Certificate[] seen = new X509Certificate[1];
        await("broker " + party + " presents serial " + serial(r.cert()), Duration.ofSeconds(30), () -> {
            try {
                if (!r.cert().equals(latest.get(party))) {
                    return true; // renewed again meanwhile: the next event covers it
                }
                seen[0] = presented(party, files.get(other(party)).read()).get(0);
                return seen[0].equals(r.cert());
            } catch (IOException | RuntimeException e) {
                return false; // e.g. the other party's files switching under the read: try again
            }
        });
        long presentedMs = (System.nanoTime() - begin) / 1_000_000;
        Map<String, Long> marks = marks();
        long at = System.nanoTime();
        int closed = proxy.closeTunnels(t -> name(party).equals(t.serverName()));
        assertTrue(closed >= 1, "no tunnel to " + name(party) + " to close: " + proxy.tunnels());
        awaitResumed(marks, "after closing the tunnels to " + name(party));
        measure("rotated party=" + party + " serial=" + serial(r.cert()) + " renewedAt=" + String.format("%.1fs",
                r.atSeconds()) + " newHandshakeShowsItAfterMs=" + presentedMs + " tunnelsClosed=" + closed
                + " resumedAfterMs=" + (System.nanoTime() - at) / 1_000_000 + " " + counts());
    }

    /** The chain a new TLS handshake through the proxy to {@code party}'s broker presents ({@code me} connects). */
    List<X509Certificate> presented(String party, TlsMaterial me) throws IOException {
        try (Socket plain = new Socket()) {
            plain.connect(proxy.localAddress(), 5_000);
            try (SSLSocket s = (SSLSocket) me.clientContext().getSocketFactory().createSocket(plain, name(party),
                    6651, false)) {
                SSLParameters p = s.getSSLParameters();
                p.setServerNames(List.of(new SNIHostName(name(party))));
                p.setEndpointIdentificationAlgorithm("HTTPS");
                s.setSSLParameters(p);
                s.setSoTimeout(5_000);
                s.startHandshake();
                List<X509Certificate> out = new ArrayList<>();
                for (Certificate c : s.getSession().getPeerCertificates()) {
                    out.add((X509Certificate) c);
                }
                return out;
            }
        }
    }

    /**
     * Whether {@code party}'s broker keeps a new TLS connection presenting {@code me}'s identity: in TLS 1.3 the
     * server checks the client's certificate after the client has finished its handshake, so a refusal shows as an
     * alert (or the connection closed) on the first read; an accepted client just waits for the broker's answer to
     * a command it never sends (the read times out).
     */
    boolean clientCertificateAccepted(String party, TlsMaterial me) throws IOException {
        try (Socket plain = new Socket()) {
            plain.connect(proxy.localAddress(), 5_000);
            try (SSLSocket s = (SSLSocket) me.clientContext().getSocketFactory().createSocket(plain, name(party),
                    6651, false)) {
                SSLParameters p = s.getSSLParameters();
                p.setServerNames(List.of(new SNIHostName(name(party))));
                p.setEndpointIdentificationAlgorithm("HTTPS");
                s.setSSLParameters(p);
                s.setSoTimeout(3_000);
                try {
                    s.startHandshake();
                    return s.getInputStream().read() != -1;
                } catch (java.net.SocketTimeoutException e) {
                    return true;
                } catch (javax.net.ssl.SSLException | java.net.SocketException e) {
                    return false;
                }
            }
        }
    }

    /** For each flow, a sequence number its producer had not reached yet: a message sent after now. */
    Map<String, Long> marks() {
        Map<String, Long> m = new HashMap<>();
        flows.forEach((k, f) -> m.put(k, f.next.get() + 1));
        return m;
    }

    void awaitResumed(Map<String, Long> marks, String what) throws InterruptedException {
        for (Flow f : flows.values()) {
            long mark = marks.get(f.from);
            await(f + " delivers a message sent " + what + " (seq >= " + mark + ")", Duration.ofSeconds(60),
                    () -> f.maxReceived.get() >= mark);
        }
    }

    String counts() {
        StringBuilder sb = new StringBuilder();
        for (Flow f : flows.values()) {
            sb.append(f.from).append("->").append(f.to).append(" sent=").append(f.acked()).append(" received=")
                    .append(f.received.size()).append(' ');
        }
        return sb.toString().strip();
    }

    TlsFiles tlsFiles(String party) {
        PartyFiles pf = files.get(party);
        return new TlsFiles(dir.resolve("tls-" + party), pf.current(PartyFiles.CA), pf.current(PartyFiles.CERT),
                pf.current(PartyFiles.KEY));
    }

    /** A Java client of {@code party} (its own broker, through the proxy) on the party's renewing files. */
    PulsarClient clientFor(String party, int proxyPort) throws Exception {
        PulsarRouteTable viaProxy = PulsarRouteTable.parse("default:\n  proxy: \"127.0.0.1:" + proxyPort
                + "\"\n  domain: " + DOMAIN + "\n");
        return PartyClients.throughProxy(viaProxy, party, tlsFiles(party)).autoCertRefreshSeconds(REFRESH_SECONDS)
                .operationTimeout(30, TimeUnit.SECONDS).build();
    }

    static boolean signedBy(X509Certificate c, X509Certificate issuer) {
        try {
            c.verify(issuer.getPublicKey());
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    void openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(Arrays.asList(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "openssl did not finish: " + cmd);
        assertEquals(0, p.exitValue(), cmd + ":\n" + out);
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                fail("timed out after " + timeout + " waiting until " + what);
            }
            Thread.sleep(100);
        }
    }

    /**
     * Messages published at {@code from} (sequence numbers in the payload, one synchronous send at a time, paced)
     * and counted by a consumer at {@code to}, where replication delivers them.
     */
    final class Flow implements AutoCloseable {
        final String from;
        final String to;
        final PulsarClient source;
        final PulsarClient sink;
        final String topic;
        final AtomicLong next = new AtomicLong();
        final Set<Long> failedSeqs = ConcurrentHashMap.newKeySet();
        final AtomicLong failed = new AtomicLong();
        final AtomicReference<Throwable> firstFailure = new AtomicReference<>();
        final Set<Long> received = ConcurrentHashMap.newKeySet();
        final AtomicLong duplicates = new AtomicLong();
        final AtomicLong maxReceived = new AtomicLong(-1);
        final AtomicBoolean producing = new AtomicBoolean(true);
        final AtomicBoolean running = new AtomicBoolean(true);
        volatile long ackedCount;
        Thread producerThread;
        Thread consumerThread;

        Flow(String from, String to, PulsarClient source, PulsarClient sink) {
            this.from = from;
            this.to = to;
            this.source = source;
            this.sink = sink;
            this.topic = "persistent://" + FederationAdmin.TENANT + "/" + NAMESPACE + "/from-" + from;
        }

        void start() throws Exception {
            Consumer<byte[]> consumer = sink.newConsumer().topic(topic).subscriptionName("count-at-" + to)
                    .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest).subscribe();
            Producer<byte[]> producer = source.newProducer().topic(topic).sendTimeout(30, TimeUnit.SECONDS)
                    .create();
            consumerThread = new Thread(() -> consume(consumer), "count-" + this);
            producerThread = new Thread(() -> produce(producer), "send-" + this);
            consumerThread.setDaemon(true);
            producerThread.setDaemon(true);
            consumerThread.start();
            producerThread.start();
        }

        private void produce(Producer<byte[]> producer) {
            byte[] pad = new byte[256];
            while (producing.get()) {
                long seq = next.get();
                byte[] body = (seq + "|").getBytes(StandardCharsets.US_ASCII);
                try {
                    producer.send(Arrays.copyOf(body, body.length + pad.length));
                    ackedCount = seq + 1 - failedSeqs.size();
                } catch (Exception e) {
                    if (!producing.get() && !running.get()) {
                        return;
                    }
                    failedSeqs.add(seq);
                    failed.incrementAndGet();
                    firstFailure.compareAndSet(null, e);
                }
                next.incrementAndGet();
                try {
                    Thread.sleep(40); // pacing: about 25 messages a second
                } catch (InterruptedException e) {
                    return;
                }
            }
            try {
                producer.close();
            } catch (Exception e) {
                // closing anyway
            }
        }

        private void consume(Consumer<byte[]> consumer) {
            while (running.get()) {
                try {
                    Message<byte[]> m = consumer.receive(500, TimeUnit.MILLISECONDS);
                    if (m == null) {
                        continue;
                    }
                    String s = new String(m.getValue(), StandardCharsets.US_ASCII);
                    long seq = Long.parseLong(s.substring(0, s.indexOf('|')));
                    if (!received.add(seq)) {
                        duplicates.incrementAndGet();
                    }
                    maxReceived.accumulateAndGet(seq, Math::max);
                    consumer.acknowledgeAsync(m);
                } catch (Exception e) {
                    if (!running.get()) {
                        break;
                    }
                }
            }
            try {
                consumer.close();
            } catch (Exception e) {
                // closing anyway
            }
        }

        long acked() {
            return ackedCount;
        }

        /** Sequence numbers acknowledged by the source broker and not (yet) received at the other party. */
        List<Long> missing() {
            List<Long> out = new ArrayList<>();
            long sent = next.get();
            for (long i = 0; i < sent && out.size() < 20; i++) {
                if (!failedSeqs.contains(i) && !received.contains(i)) {
                    out.add(i);
                }
            }
            return out;
        }

        void stopProducing() throws InterruptedException {
            producing.set(false);
            producerThread.join(60_000);
        }

        @Override
        public void close() throws Exception {
            producing.set(false);
            running.set(false);
            if (producerThread != null) {
                producerThread.join(30_000);
                consumerThread.join(30_000);
            }
            source.close();
            sink.close();
        }

        @Override
        public String toString() {
            return from + "->" + to;
        }
    }
}
