package io.fedlink.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.CloseReason;
import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteSource;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServer;
import io.fedlink.federation.FederationSettings;
import io.fedlink.sni.SniProxy;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proxies fed from the registry: three in-process SNI proxies, each with its own route source on its own
 * read-only etcd connection, against a real three-member etcd cluster with mutual TLS and RBAC. Parties join and
 * leave, members stop, the whole cluster stops, one proxy is cut off while history is compacted, a proxy starts from
 * its cache file while etcd is away. Figures (convergence, 1,000-party load) are printed to the test output.
 */
class EtcdRouteSourceIT {
    @TempDir
    static Path dir;
    static EtcdCluster etcd;
    static EtcdConnection operator;
    static TlsBackend backend;
    final List<AutoCloseable> closeAfter = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        etcd = EtcdCluster.start(dir);
        operator = etcd.connect("operator");
        backend = new TlsBackend();
    }

    @AfterAll
    static void stop() throws Exception {
        if (operator != null) {
            operator.close();
        }
        if (backend != null) {
            backend.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeAfter.size() - 1; i >= 0; i--) {
            closeAfter.get(i).close();
        }
    }

    FederationRegistry init(String federation) throws Exception {
        FederationRegistry r = new FederationRegistry(operator, RegistryKeys.of(federation));
        r.init(FederationSettings.of("fate.org", "proxy.fate.org:443", 0, 0), false);
        return r;
    }

    /** A proxy's route source on its own read-only connection (to every member, or to the given endpoints). */
    EtcdRouteSource source(String federation, String endpoints, Path cache) throws Exception {
        return source(RegistryKeys.of(federation), endpoints, cache);
    }

    EtcdRouteSource source(RegistryKeys keys, String endpoints, Path cache) throws Exception {
        EtcdConnection c = EtcdConnection.builder().endpoints(endpoints == null ? etcd.endpoints() : endpoints)
                .tls(EtcdConnection.readTlsDir(etcd.tlsDir("proxy"))).timeout(Duration.ofSeconds(5)).build();
        closeAfter.add(c);
        EtcdRouteSource.Builder b = EtcdRouteSource.builder(c, keys,
                new RouteHolder(RouteTable.empty())).probeInterval(Duration.ofMillis(300))
                .maxBackoff(Duration.ofSeconds(1));
        if (cache != null) {
            b.cacheFile(cache);
        }
        EtcdRouteSource s = b.start();
        closeAfter.add(s);
        return s;
    }

    TunnelServer proxy(EtcdRouteSource s) throws Exception {
        TunnelServer p = SniProxy.builder().bindLoopback(0).eventLoops(1).routes(s.holder()).start();
        closeAfter.add(() -> p.close(Duration.ZERO));
        return p;
    }

    static boolean routes(EtcdRouteSource s, String party) {
        return s.holder().current().resolve(party + ".fate.org") != null;
    }

    static void await(String what, int seconds, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() - end < 0, "timed out after " + seconds + " s waiting for " + what);
            Thread.sleep(2);
        }
    }

    void addParty(FederationRegistry r, String id) throws Exception {
        r.putParty(id, "127.0.0.1", 0, backend.port(), List.of(), false);
    }

    @Test
    void hundredPartiesJoinAndLeaveOnThreeProxies() throws Exception {
        FederationRegistry r = init("hundred");
        EtcdRouteSource[] sources = new EtcdRouteSource[3];
        TunnelServer[] proxies = new TunnelServer[3];
        Map<String, long[]> seen = new ConcurrentHashMap<>();
        for (int i = 0; i < 3; i++) {
            sources[i] = source("hundred", null, null);
            proxies[i] = proxy(sources[i]);
            int idx = i;
            sources[i].holder().addListener((prev, next) -> {
                long now = System.nanoTime();
                for (var route : next.routes()) {
                    seen.computeIfAbsent(route.serverName(), k -> new long[3])[idx] = now;
                }
            });
        }
        long[] convergence = new long[100];
        for (int n = 0; n < 100; n++) {
            String id = String.valueOf(20000 + n);
            addParty(r, id);
            long acked = System.nanoTime();
            // The listeners run right after each swap; wait for all three timestamps.
            await("party " + id + " on every proxy", 10, () -> {
                long[] t = seen.get(id + ".fate.org");
                return t != null && Arrays.stream(t).allMatch(v -> v != 0);
            });
            assertTrue(Arrays.stream(sources).allMatch(s -> routes(s, id)));
            long last = Arrays.stream(seen.get(id + ".fate.org")).max().orElseThrow();
            convergence[n] = Math.max(0, last - acked);
        }
        Arrays.sort(convergence);
        System.out.printf("convergence over 100 parties, 3 proxies: p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                convergence[49] / 1e6, convergence[98] / 1e6, convergence[99] / 1e6);
        for (int n = 0; n < 100; n += 9) {
            String name = (20000 + n) + ".fate.org";
            for (TunnelServer p : proxies) {
                assertEquals(name, backend.dial(p.localAddress().getPort(), name), "routed by every proxy");
            }
        }
        for (int n = 0; n < 100; n++) {
            r.removeParty(String.valueOf(20000 + n));
        }
        await("every route gone", 20, () -> Arrays.stream(sources).allMatch(s -> s.holder().current().size() == 0));
        for (TunnelServer p : proxies) {
            SSLException e = assertThrows(SSLException.class, () -> backend.dial(p.localAddress().getPort(),
                    "20000.fate.org"));
            assertTrue(e.getMessage().contains("unrecognized_name"), e.getMessage());
        }
        for (EtcdRouteSource s : sources) {
            assertTrue(s.stats().connected() && s.stats().swaps() >= 100, s.stats().toString());
        }
    }

    /**
     * Issue 21: a party removed from the registry is cut off on every proxy: its live tunnels close (reason
     * ROUTE_REMOVED) within 5 s and new hellos are refused, while other parties' tunnels carry on. Several rounds;
     * the time from the start of the removal to the last of the two tunnels ending is printed (median, max).
     */
    @Test
    void removedPartyIsCutOffOnEveryProxy() throws Exception {
        FederationRegistry r = init("removal");
        addParty(r, "10000");
        EtcdRouteSource[] sources = {source("removal", null, null), source("removal", null, null)};
        TunnelServer[] proxies = {proxy(sources[0]), proxy(sources[1])};
        await("10000 on both proxies", 10, () -> routes(sources[0], "10000") && routes(sources[1], "10000"));
        SSLSocket other = backend.open(proxies[0].localAddress().getPort(), "10000.fate.org");
        closeAfter.add(other);
        assertEquals("10000.fate.org", line(other, null));
        long[] millis = new long[7];
        for (int round = 0; round < millis.length; round++) {
            addParty(r, "9999");
            await("9999 on both proxies", 10, () -> routes(sources[0], "9999") && routes(sources[1], "9999"));
            List<SSLSocket> live = new ArrayList<>();
            for (TunnelServer p : proxies) {
                SSLSocket s = backend.open(p.localAddress().getPort(), "9999.fate.org");
                closeAfter.add(s);
                assertEquals("9999.fate.org", line(s, null), "a live tunnel to 9999's broker");
                live.add(s);
            }
            long removed = System.nanoTime(); // from the start of the removal, its etcd write included
            r.removeParty("9999");
            long last = 0;
            for (SSLSocket s : live) {
                EtcdCluster.awaitEnded(s, removed + TimeUnit.SECONDS.toNanos(5));
                last = System.nanoTime();
            }
            millis[round] = TimeUnit.NANOSECONDS.toMillis(last - removed);
            for (TunnelServer p : proxies) {
                SSLException e = assertThrows(SSLException.class, () -> backend.dial(p.localAddress().getPort(),
                        "9999.fate.org"));
                assertTrue(e.getMessage().contains("unrecognized_name"), e.getMessage());
                assertEquals(round + 1, p.stats().closed(CloseReason.ROUTE_REMOVED), p.stats().toString());
            }
        }
        assertEquals("still here", line(other, "still here"), "the other party's tunnel carries on");
        Arrays.sort(millis);
        System.out.printf("removal to both tunnels closed (2 proxies, %d rounds): median %d ms, max %d ms%n",
                millis.length, millis[millis.length / 2], millis[millis.length - 1]);
    }

    /**
     * Issue 22: 6 MiB under the prefix (6,000 parties and 5.5 MiB of other values) is more than gRPC's default 4 MiB
     * inbound message: the reads are paged, consistent at one revision. A proxy starts, routes and follows; the
     * operator's read sees every party.
     */
    @Test
    void sixMibUnderThePrefixIsReadInPages() throws Exception {
        FederationRegistry r = init("big");
        EtcdCluster.fill(operator, r.keys(), 100000, 6000, backend.port(), 88, 64 << 10);
        long t0 = System.nanoTime();
        EtcdRouteSource s = source("big", null, null);
        System.out.printf("start-up read of 6,000 parties and 5.5 MiB of other values, paged: %.0f ms%n",
                (System.nanoTime() - t0) / 1e6);
        assertEquals(6000, s.holder().current().size(), s.stats().toString());
        assertEquals(EtcdRouteSource.State.OK, s.stats().state());
        TunnelServer p = proxy(s);
        assertEquals(6000, r.read().parties().size());
        addParty(r, "9999");
        await("a change after the paged read", 10, () -> routes(s, "9999"));
        assertEquals("9999.fate.org", backend.dial(p.localAddress().getPort(), "9999.fate.org"));
        s.reloadNow();
        await("a paged read on request", 20, () -> s.stats().resyncs() >= 1 && s.stats().connected());
        assertEquals(6001, s.holder().current().size());
    }

    /**
     * Issue 22: an answer larger than the client accepts even one key at a time is "too large", not "unreachable":
     * the error names the size, the limit and the fix; a running source keeps its last good table and says why.
     */
    @Test
    void aValueLargerThanTheMessageLimitIsTooLargeNotUnreachable() throws Exception {
        FederationRegistry r = init("huge");
        addParty(r, "10000");
        EtcdConnection small = EtcdConnection.builder().endpoints(etcd.endpoints())
                .tls(EtcdConnection.readTlsDir(etcd.tlsDir("proxy"))).timeout(Duration.ofSeconds(5))
                .maxMessageBytes(128 << 10).build();
        closeAfter.add(small);
        EtcdRouteSource s = EtcdRouteSource.builder(small, r.keys(), new RouteHolder(RouteTable.empty()))
                .probeInterval(Duration.ofMillis(300)).maxBackoff(Duration.ofSeconds(1)).start();
        closeAfter.add(s);
        assertTrue(routes(s, "10000"));
        byte[] note = new byte[200 << 10];
        Arrays.fill(note, (byte) 'x');
        operator.call("put a note", operator.client().getKVClient().put(
                RegistryKeys.bytes(r.keys().prefix() + "notes/big"), io.etcd.jetcd.ByteSequence.from(note)));
        await("the source says why", 20, () -> s.stats().state() == EtcdRouteSource.State.TOO_LARGE);
        String problem = s.stats().problem();
        assertTrue(problem.contains("too large") && problem.contains("131072") && problem.contains("maxMessageBytes")
                && problem.contains("--etcd-max-message"), problem);
        assertTrue(routes(s, "10000"), "the last good table stays");
        RegistryTooLargeException e = assertThrows(RegistryTooLargeException.class,
                () -> new FederationRegistry(small, r.keys()).read());
        assertTrue(e.getMessage().contains("/fedlink/huge/notes/big") || e.getMessage().contains("/fedlink/huge/"),
                e.getMessage());
        operator.call("delete the note", operator.client().getKVClient().delete(
                RegistryKeys.bytes(r.keys().prefix() + "notes/big")));
        await("healthy again", 20, () -> s.stats().state() == EtcdRouteSource.State.OK);
    }

    /**
     * Issue 21, optional part: with every party's source addresses recorded ({@code egress}), each route admits only
     * those, so removing a party also closes the tunnels it opened *to other parties* and refuses its new ones; a
     * party without egress lifts the rule (nothing changes until every party has declared its own).
     */
    @Test
    void removedPartysOwnConnectionsAreClosedWhenEgressIsRecorded() throws Exception {
        FederationRegistry r = init("egress");
        InetAddress of10000 = InetAddress.getByName("127.0.0.2");
        InetAddress of9999 = InetAddress.getByName("127.0.0.3");
        r.putParty("10000", "127.0.0.1", 0, backend.port(), List.of(), List.of("127.0.0.2/32"), false);
        r.putParty("9999", "127.0.0.1", 0, backend.port(), List.of(), List.of("127.0.0.3/32"), false);
        EtcdRouteSource s = source("egress", null, null);
        TunnelServer p = proxy(s);
        int port = p.localAddress().getPort();
        SSLSocket from9999 = backend.open(port, "10000.fate.org", of9999); // 9999's broker dials 10000
        closeAfter.add(from9999);
        assertEquals("10000.fate.org", line(from9999, null));
        SSLSocket from10000 = backend.open(port, "9999.fate.org", of10000);
        closeAfter.add(from10000);
        assertEquals("9999.fate.org", line(from10000, null));
        SSLException stranger = assertThrows(SSLException.class,
                () -> backend.open(port, "10000.fate.org", InetAddress.getByName("127.0.0.4")).close());
        assertTrue(stranger.getMessage().contains("access_denied"), stranger.getMessage());

        long removed = System.nanoTime();
        r.removeParty("9999");
        EtcdCluster.awaitEnded(from9999, removed + TimeUnit.SECONDS.toNanos(5)); // its tunnel *to* 10000
        EtcdCluster.awaitEnded(from10000, removed + TimeUnit.SECONDS.toNanos(5)); // the tunnel *to* it
        SSLException refused = assertThrows(SSLException.class,
                () -> backend.open(port, "10000.fate.org", of9999).close());
        assertTrue(refused.getMessage().contains("access_denied"), refused.getMessage());

        addParty(r, "8888"); // no egress: the rule is off for everyone
        await("8888 routed", 10, () -> routes(s, "8888"));
        backend.open(port, "10000.fate.org", of9999).close();
    }

    /** Sends {@code text} (when not null) and reads one line back. */
    static String line(SSLSocket s, String text) throws IOException {
        if (text != null) {
            s.getOutputStream().write((text + "\n").getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
        }
        StringBuilder b = new StringBuilder();
        for (int c; (c = s.getInputStream().read()) != '\n'; ) {
            assertTrue(c >= 0, "the tunnel ended");
            b.append((char) c);
        }
        return b.toString();
    }

    /**
     * Issue 25: the registry is a {@link RouteSource} like a route file. Started the way a proxy starts any source
     * ({@code start()}: the first table, then swaps into the proxy's holder), it serves, follows, closes a removed
     * party's tunnels, says why it cannot refresh ({@code problem()}) and reads again on request ({@code reload()}).
     */
    @Test
    void asARouteSourceItFeedsTheHolderTheProxyTakes() throws Exception {
        FederationRegistry r = init("source");
        addParty(r, "10000");
        try (TcpRelay relay = new TcpRelay(Integer.parseInt(etcd.endpoints().split(",")[0].replaceAll(".*:", "")))) {
            EtcdConnection c = EtcdConnection.builder().endpoints("https://127.0.0.1:" + relay.port())
                    .tls(EtcdConnection.readTlsDir(etcd.tlsDir("proxy"))).timeout(Duration.ofSeconds(5)).build();
            RouteSource source = EtcdRouteSource.builder(c, RegistryKeys.of("source")).ownsConnection(true)
                    .probeInterval(Duration.ofMillis(300)).maxBackoff(Duration.ofSeconds(1)).build();
            closeAfter.add(source);
            assertEquals("federation source in etcd", source.toString());
            RouteHolder holder = source.start();
            assertNotNull(holder.current().resolve("10000.fate.org"), "the first table, read at start");
            assertTrue(source.problem().isEmpty());
            TunnelServer p = SniProxy.builder().bindLoopback(0).eventLoops(1).routes(holder).start();
            closeAfter.add(() -> p.close(Duration.ZERO));

            addParty(r, "9999");
            await("9999 in the proxy's holder", 10, () -> holder.current().resolve("9999.fate.org") != null);
            SSLSocket tunnel = backend.open(p.localAddress().getPort(), "9999.fate.org");
            closeAfter.add(tunnel);
            assertEquals("9999.fate.org", line(tunnel, null));
            long removed = System.nanoTime();
            r.removeParty("9999");
            EtcdCluster.awaitEnded(tunnel, removed + TimeUnit.SECONDS.toNanos(5));
            assertEquals(1, p.stats().closed(CloseReason.ROUTE_REMOVED), p.stats().toString());

            relay.cut();
            await("a problem while etcd is cut off", 30, () -> source.problem().isPresent());
            source.reload(); // a read on request fails and keeps the table
            assertNotNull(holder.current().resolve("10000.fate.org"), "the last good table stays");
            relay.restore();
            await("no problem once etcd answers", 30, () -> source.problem().isEmpty());
            addParty(r, "8888");
            await("8888 after the outage", 10, () -> holder.current().resolve("8888.fate.org") != null);
        }
    }

    /** A source that cannot start (etcd unreachable, no cache file) fails naming the endpoints and closes. */
    @Test
    void aRouteSourceThatCannotStartFailsAndClosesItsConnection() throws Exception {
        init("nostart");
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        EtcdConnection c = EtcdConnection.builder().endpoints("https://127.0.0.1:" + port)
                .tls(EtcdConnection.readTlsDir(etcd.tlsDir("proxy"))).timeout(Duration.ofSeconds(2)).build();
        RouteSource source = EtcdRouteSource.builder(c, RegistryKeys.of("nostart")).ownsConnection(true).build();
        RegistryUnavailableException e = assertThrows(RegistryUnavailableException.class, source::start);
        assertTrue(e.getMessage().contains("127.0.0.1:" + port), e.getMessage());
        assertThrows(IllegalStateException.class, source::initial, "closed after the failed start");
    }

    @Test
    void reloadNowReadsThePrefixAgainAndKeepsTheTableWhenEtcdIsAway() throws Exception {
        FederationRegistry r = init("reload");
        addParty(r, "10000");
        EtcdRouteSource s = source("reload", null, null);
        long before = s.stats().resyncs();
        s.reloadNow();
        await("a full read on request", 10, () -> s.stats().resyncs() == before + 1);
        assertTrue(routes(s, "10000") && s.stats().connected());
        addParty(r, "9999");
        await("the watch resumed after the read", 10, () -> routes(s, "9999"));

        // Through a relay we can cut: a read on request while etcd is unreachable keeps the table.
        try (TcpRelay relay = new TcpRelay(Integer.parseInt(etcd.endpoints().split(",")[0].replaceAll(".*:", "")))) {
            EtcdRouteSource cut = source("reload", "https://127.0.0.1:" + relay.port(), null);
            await("both parties", 10, () -> routes(cut, "10000") && routes(cut, "9999"));
            relay.cut();
            long failedBefore = cut.stats().failedCalls();
            cut.reloadNow();
            await("the read on request failed", 30, () -> cut.stats().failedCalls() > failedBefore);
            assertTrue(routes(cut, "10000") && routes(cut, "9999"), "the last good table stays");
            relay.restore();
            await("back", 30, () -> cut.stats().connected());
        }
    }

    @Test
    void malformedValueIsSkippedNamingItsKeyAndTheRestIsServed() throws Exception {
        FederationRegistry r = init("malformed");
        addParty(r, "10000");
        EtcdRouteSource s = source("malformed", null, null);
        etcd.ok("operator", "put", "/fedlink/malformed/parties/9999", "{\"version\":1,\"id\":\"9999\",\"host\":"
                + "\"not a host\"}");
        etcd.ok("operator", "put", "/fedlink/malformed/parties/8888", "{oops");
        addParty(r, "7777");
        await("7777 served", 10, () -> routes(s, "7777"));
        assertTrue(routes(s, "10000"));
        assertEquals(2, s.stats().skippedValues(), s.federation().skipped().toString());
        assertTrue(s.federation().skipped().get("/fedlink/malformed/parties/9999").contains("'not a host'"));
        assertTrue(s.federation().skipped().get("/fedlink/malformed/parties/8888").contains("not valid JSON"));
        etcd.ok("operator", "put", "/fedlink/malformed/parties/9999", "{\"version\":1,\"id\":\"9999\",\"host\":"
                + "\"127.0.0.1\"}");
        await("9999 served once fixed", 10, () -> routes(s, "9999"));
        assertEquals(1, s.stats().skippedValues());
        etcd.ok("operator", "put", "/fedlink/malformed/settings", "{\"version\":1,\"domain\":\"no_domain\"}");
        await("bad settings seen", 10, () -> s.federation().skipped().containsKey("/fedlink/malformed/settings"));
        assertTrue(routes(s, "10000") && routes(s, "9999"), "the last good settings stay in force");
        etcd.ok("operator", "put", "/fedlink/malformed/settings", "{\"version\":1,\"domain\":\"other.org\","
                + "\"proxy\":\"proxy.other.org:443\"}");
        await("new domain in force", 10, () -> s.holder().current().resolve("10000.other.org") != null);
        assertNull(s.holder().current().resolve("10000.fate.org"));
    }

    @Test
    void stoppedMemberAndStoppedClusterKeepTheTableAndCatchUp() throws Exception {
        FederationRegistry r = init("faults");
        addParty(r, "10000");
        EtcdRouteSource s = source("faults", null, null);
        TunnelServer p = proxy(s);
        etcd.stopMember(0);
        try {
            addParty(r, "10001");
            await("10001 with one member down", 15, () -> routes(s, "10001"));
        } finally {
            etcd.startMember(0);
            etcd.awaitHealthy();
        }
        for (int i = 0; i < 3; i++) {
            etcd.stopMember(i);
        }
        try {
            await("the source notices", 15, () -> !s.stats().connected());
            assertTrue(s.stats().disconnects() >= 1, s.stats().toString());
            assertEquals(EtcdRouteSource.State.UNREACHABLE, s.stats().state(), s.stats().toString());
            assertTrue(s.stats().problem().contains("unreachable"), s.stats().problem());
            assertEquals("10001.fate.org", backend.dial(p.localAddress().getPort(), "10001.fate.org"),
                    "the last good table keeps routing");
        } finally {
            for (int i = 0; i < 3; i++) {
                etcd.startMember(i);
            }
            etcd.awaitHealthy();
        }
        addParty(r, "10002");
        await("a write after etcd returned", 30, () -> routes(s, "10002"));
        assertTrue(routes(s, "10000") && routes(s, "10001"));
    }

    @Test
    void changesWhileCutOffAreNotLostAcrossACompaction() throws Exception {
        FederationRegistry r = init("cutoff");
        addParty(r, "10000");
        addParty(r, "10001");
        try (TcpRelay relay = new TcpRelay(Integer.parseInt(etcd.endpoints().split(",")[0].replaceAll(".*:", "")))) {
            EtcdRouteSource s = source("cutoff", "https://127.0.0.1:" + relay.port(), null);
            assertTrue(routes(s, "10000") && routes(s, "10001"));
            relay.cut();
            await("the source notices", 15, () -> !s.stats().connected());
            r.removeParty("10000");
            addParty(r, "10002");
            for (int i = 0; i < 20; i++) {
                r.putParty("10001", "127.0.0." + (i + 1), 0, backend.port(), List.of(), true);
            }
            etcd.compact();
            assertTrue(routes(s, "10000") && !routes(s, "10002"), "still the last good table");
            relay.restore();
            await("caught up", 30, () -> routes(s, "10002") && !routes(s, "10000"));
            assertEquals("127.0.0.20", s.federation().party("10001").host());
            assertTrue(s.stats().resyncs() >= 1, s.stats().toString());
        }
    }

    @Test
    void startsFromTheCacheFileWhileEtcdIsAway() throws Exception {
        FederationRegistry r = init("cache");
        addParty(r, "10000");
        Path cache = dir.resolve("cache/routes-cache.json");
        try (TcpRelay relay = new TcpRelay(Integer.parseInt(etcd.endpoints().split(",")[1].replaceAll(".*:", "")))) {
            String via = "https://127.0.0.1:" + relay.port();
            EtcdRouteSource first = source("cache", via, cache);
            await("cache written", 10, () -> Files.exists(cache));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(cache)));
            first.close();
            relay.cut();
            RegistryUnavailableException e = assertThrows(RegistryUnavailableException.class,
                    () -> source("cache", via, null));
            assertTrue(e.getMessage().contains(via), e.getMessage());
            EtcdRouteSource second = source("cache", via, cache);
            assertTrue(second.stats().servedFromCache() && routes(second, "10000"), second.stats().toString());
            TunnelServer p = proxy(second);
            assertEquals("10000.fate.org", backend.dial(p.localAddress().getPort(), "10000.fate.org"));
            addParty(r, "10001");
            relay.restore();
            await("caught up after etcd returned", 30, () -> routes(second, "10001"));
            assertFalse(second.stats().servedFromCache());
        }
    }

    @Test
    void proxyIdentityReadsOnlyWhatItsRoleAllows() throws Exception {
        IllegalStateException outside = assertThrows(IllegalStateException.class,
                () -> source(new RegistryKeys("private", "/private/"), null, null));
        assertTrue(outside.getMessage().contains("permission denied"), outside.getMessage());
        FederationRegistry r = init("revoked");
        addParty(r, "10000");
        EtcdRouteSource s = source("revoked", null, null);
        etcd.ok("root", "role", "revoke-permission", "proxy", "/fedlink/", "--prefix=true");
        try {
            await("the source notices the refusal", 15, () -> !s.stats().connected());
            assertEquals(EtcdRouteSource.State.REFUSED, s.stats().state(), s.stats().toString());
            assertTrue(s.stats().problem().contains("permission denied"), s.stats().problem());
            assertTrue(routes(s, "10000"), "the last good table stays");
        } finally {
            etcd.ok("root", "role", "grant-permission", "proxy", "read", "/fedlink/", "--prefix=true");
        }
        addParty(r, "10001");
        await("routes again once allowed", 30, () -> routes(s, "10001"));
    }

    @Test
    void thousandParties() throws Exception {
        FederationRegistry r = init("thousand");
        EtcdCluster.fill(operator, r.keys(), 30000, 1000, 0, 0, 0);
        long t0 = System.nanoTime();
        EtcdRouteSource s = source("thousand", null, null);
        long loadNanos = System.nanoTime() - t0;
        assertEquals(1000, s.holder().current().size());
        FederationSnapshot f = s.federation();
        int rounds = 200;
        RouteTable table = null;
        long t1 = System.nanoTime();
        for (int i = 0; i < rounds; i++) {
            table = f.routeTable();
            s.holder().swap(table);
        }
        long swapNanos = (System.nanoTime() - t1) / rounds;
        Runtime rt = Runtime.getRuntime();
        List<RouteTable> kept = new ArrayList<>();
        System.gc();
        long before = rt.totalMemory() - rt.freeMemory();
        for (int i = 0; i < 20; i++) {
            kept.add(f.routeTable());
        }
        System.gc();
        long perTable = (rt.totalMemory() - rt.freeMemory() - before) / kept.size();
        long[] adds = new long[10];
        for (int i = 0; i < adds.length; i++) {
            String id = String.valueOf(40000 + i);
            addParty(r, id);
            long acked = System.nanoTime();
            await(id, 10, () -> routes(s, id));
            adds[i] = System.nanoTime() - acked;
        }
        Arrays.sort(adds);
        System.out.printf("1000 parties: start-up load %.1f ms; rebuild+swap %.3f ms; route table ~%d KiB; "
                        + "add with 1000 present: p50 %.2f ms, max %.2f ms%n", loadNanos / 1e6, swapNanos / 1e6,
                perTable / 1024, adds[4] / 1e6, adds[9] / 1e6);
        assertNotNull(table);
        assertNull(table.resolve("29999.fate.org"));
    }
}
