package io.fedlink.metrics;

import io.fedlink.api.BoundedHttpServer;
import io.fedlink.api.AgentStatus;
import io.fedlink.api.CloseReason;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TargetStatus;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelListener;
import io.fedlink.api.TunnelServer;
import io.fedlink.api.TunnelStats;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Prometheus metrics of one running proxy, observed through fedlink-api only: a {@link TunnelListener} for the
 * per-route series and the timeouts, {@link TunnelServer#stats()} for the totals (read at scrape time, nothing on the
 * data path), and a {@link RouteHolder} listener for the route table. Every route label is a configured entry's name
 * ({@code 10000.fate.org}, {@code *.fate.org}, {@code *}), {@code unknown} or {@code none}; never a raw server name
 * or a client address.
 *
 * <pre>{@code
 * RouteHolder routes = ...;
 * ProxyMetrics metrics = ProxyMetrics.watching(routes);
 * TunnelServer proxy = Tunnels.server().routes(routes).listener(TunnelListeners.all(metrics, mine)).start();
 * metrics.observe(proxy);
 * try (MetricsServer http = MetricsServer.start(new InetSocketAddress("127.0.0.1", 9464), metrics)) { ... }
 * }</pre>
 *
 * <p>The callbacks only increment {@link LongAdder}s of series resolved when the route table was swapped in: no
 * lock, no allocation per event. A tunnel's figures at close go to the entry the table in force then gives its name;
 * live tunnels are counted at scrape time from {@link TunnelServer#tunnels()}. Series of entries removed by a reload
 * stay (with their last values), so counters never go backwards; the label set is bounded by the entries ever
 * configured.
 *
 * <p>Target health ({@code fedlink_target_*}) is read at scrape time from {@link TunnelServer#targets()}, labelled
 * by route entry and target as configured.
 */
public final class ProxyMetrics implements TunnelListener, MultiCollector {
    static final String FROM_CLIENT = "from_client";
    static final String TO_CLIENT = "to_client";

    private final RouteHolder routes;
    private final Map<String, RouteSeries> series = new ConcurrentHashMap<>();
    private final Function<String, RouteSeries> seriesFor = name -> series.computeIfAbsent(name, RouteSeries::new);
    private final Map<CloseReason, LongAdder> closed = new EnumMap<>(CloseReason.class);
    private final LongAdder helloTimeouts = new LongAdder();
    private final LongAdder connectTimeouts = new LongAdder();
    private final LongAdder idleTimeouts = new LongAdder();
    private final Map<String, LongAdder> timeouts = new LinkedHashMap<>();
    private final AtomicLong version = new AtomicLong(1);
    private volatile long lastReloadMillis = System.currentTimeMillis();
    private volatile RouteLabels labels;
    private volatile TunnelServer server;
    private volatile BooleanSupplier reloadFailing;
    private volatile List<String> registryStates = List.of();
    private volatile Supplier<RegistryHealth> registry;
    private volatile BuffersInUse buffers;
    private final Map<String, BoundedHttpServer> httpServers = new ConcurrentHashMap<>();

    private ProxyMetrics(RouteHolder routes) {
        this.routes = routes;
        for (CloseReason r : CloseReason.values()) {
            closed.put(r, new LongAdder());
        }
        timeouts.put("hello", helloTimeouts);
        timeouts.put("connect", connectTimeouts);
        timeouts.put("idle", idleTimeouts);
        this.labels = new RouteLabels(routes.current(), seriesFor);
        routes.addListener(this::routesChanged);
    }

    /**
     * Metrics for a proxy serving {@code routes}: from now on every swap re-resolves the route labels and counts as a
     * successful reload. Pass the result as (or with {@link TunnelListeners#all}) the proxy's listener, then call
     * {@link #observe} with the started proxy.
     */
    public static ProxyMetrics watching(RouteHolder routes) {
        return new ProxyMetrics(Objects.requireNonNull(routes, "routes"));
    }

    /** Reads the totals, readiness and (when its JMX view is registered) pooled buffers from {@code proxy}. */
    public ProxyMetrics observe(TunnelServer proxy) {
        this.server = Objects.requireNonNull(proxy, "proxy");
        this.buffers = BuffersInUse.of(proxy.localAddress());
        return this;
    }

    /**
     * Exposes {@code fedlink_route_reload_failing}: 1 while {@code failing} says the route source refused its latest
     * change (for a route file: {@code () -> source.problem().isPresent()}).
     */
    public ProxyMetrics reloadFailing(BooleanSupplier failing) {
        this.reloadFailing = Objects.requireNonNull(failing, "failing");
        return this;
    }

    /**
     * Exposes the registry's state as {@code fedlink_registry_state{state=...}} (1 for the current state, 0 for every
     * other of {@code states}) and in {@code /readyz}: a proxy serving its last good table while the registry cannot
     * be read stays ready, its body saying it is degraded and why. For {@code fedlink proxy --etcd} the states are
     * {@code EtcdRouteSource.State}'s in lower case and {@code health} reads its {@code stats()}.
     *
     * @param states every state {@code health} may report, {@value RegistryHealth#OK} among them (one series each)
     * @param health the registry's current state, read at each scrape and each {@code /readyz}
     */
    public ProxyMetrics registry(List<String> states, Supplier<RegistryHealth> health) {
        if (!states.contains(RegistryHealth.OK)) {
            throw new IllegalArgumentException("the registry states " + states + " must include '"
                    + RegistryHealth.OK + "'");
        }
        this.registryStates = List.copyOf(states);
        this.registry = Objects.requireNonNull(health, "health");
        return this;
    }

    /** The registry's state when {@link #registry} was given, else {@code null}. */
    public RegistryHealth registryHealth() {
        Supplier<RegistryHealth> r = registry;
        return r == null ? null : r.get();
    }

    /** Entries of the route table in force. */
    int routesInForce() {
        return routes.current().size();
    }

    /**
     * Exposes the refusals of one of the proxy's HTTP servers ({@code metrics}, {@code admin}) as
     * {@code fedlink_http_refused_total{server=NAME,reason=...}}: per-source and total connection caps, overload,
     * timeouts, oversized or malformed requests, and the handler's own refusals (401, 403).
     */
    public ProxyMetrics httpServer(String name, BoundedHttpServer server) {
        httpServers.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(server, "server"));
        return this;
    }

    /** Registers these metrics with {@code registry} (for embedders that expose their own). */
    public ProxyMetrics register(PrometheusRegistry registry) {
        registry.register(this);
        return this;
    }

    /**
     * Whether the proxy should get traffic: routes loaded (at least one entry, or a route for hellos without a name),
     * and a proxy observed that accepts connections (not closed, not draining, no thread died). The reasons it is not,
     * or an empty list.
     */
    public List<String> notReady() {
        List<String> why = new ArrayList<>();
        RouteTable t = routes.current();
        if (t.size() == 0 && t.noServerNameRoute() == null) {
            why.add("no routes loaded");
        }
        TunnelServer s = server;
        if (s == null) {
            why.add("proxy not started");
        } else if (!s.ready()) {
            why.add("proxy not accepting (draining, closed or failed)");
        }
        return why;
    }

    private void routesChanged(RouteTable previous, RouteTable next) {
        labels = new RouteLabels(next, seriesFor);
        version.incrementAndGet();
        lastReloadMillis = System.currentTimeMillis();
    }

    @Override
    public void tunnelOpened(Tunnel tunnel) {
        RouteSeries s = labels.of(tunnel.serverName());
        s.opened.increment();
        s.setup.observe((System.currentTimeMillis() - tunnel.openedAt().toEpochMilli()) * 1000);
        long connect = tunnel.connectNanos();
        if (connect >= 0) { // -1: a transport that does not measure it
            s.connect.observe(connect / 1000);
        }
        int hello = tunnel.helloBytes();
        if (hello >= 0) { // -1: not known
            s.helloBytes.observe(hello);
        }
    }

    @Override
    public void tunnelClosed(Tunnel tunnel) {
        RouteSeries s = labels.of(tunnel.serverName());
        s.bytesFromClient.add(tunnel.bytesFromClient());
        s.bytesToClient.add(tunnel.bytesToClient());
        s.duration.observe((System.currentTimeMillis() - tunnel.openedAt().toEpochMilli()) * 1000);
        CloseReason reason = tunnel.closeReason();
        if (reason != null) {
            closed.get(reason).increment();
            if (reason == CloseReason.IDLE_TIMEOUT) {
                idleTimeouts.increment();
            }
        }
    }

    @Override
    public void connectionRefused(InetSocketAddress client, String serverName, RefusalReason reason) {
        switch (reason) {
            case HELLO_TIMEOUT -> helloTimeouts.increment();
            case CONNECT_TIMEOUT -> {
                connectTimeouts.increment();
                labels.of(serverName).connectFailures.increment();
            }
            case CONNECT_FAILED -> labels.of(serverName).connectFailures.increment();
            default -> { } // counted by the proxy's own stats, read at scrape time
        }
    }

    @Override
    public MetricSnapshots collect() {
        List<RouteSeries> all = new ArrayList<>(series.values());
        all.sort(Comparator.comparing(s -> s.route));
        List<MetricSnapshot> out = new ArrayList<>();
        TunnelServer s = server;
        if (s != null) {
            collectStats(s.stats(), out);
        }
        out.add(counter("fedlink_tunnels_opened", "Tunnels opened (target connected), by route entry.",
                all, (r, b) -> b.accept(r.labels, r.opened.sum())));
        Map<RouteSeries, Integer> live = liveByRoute(s);
        out.add(gauge("fedlink_tunnels_live", "Tunnels open now, by route entry.", all,
                (r, b) -> b.accept(r.labels, live.getOrDefault(r, 0))));
        out.add(counter("fedlink_tunnels_closed", "Tunnels ended, by close reason.", List.of(CloseReason.values()),
                (r, b) -> b.accept(Labels.of("reason", lower(r)), closed.get(r).sum())));
        out.add(counter("fedlink_tunnel_bytes", "Bytes of ended tunnels, by route entry and direction"
                + " (fedlink_bytes_total also counts open tunnels).", all, (r, b) -> {
                    b.accept(r.fromClient, r.bytesFromClient.sum());
                    b.accept(r.toClient, r.bytesToClient.sum());
                }));
        out.add(counter("fedlink_connect_failures", "Connects to targets that failed or timed out, by route entry.",
                all, (r, b) -> b.accept(r.labels, r.connectFailures.sum())));
        out.add(counter("fedlink_timeouts", "Hello, connect and idle timeouts, by phase.",
                List.copyOf(timeouts.entrySet()),
                (e, b) -> b.accept(Labels.of("phase", e.getKey()), e.getValue().sum())));
        out.add(histogram("fedlink_tunnel_duration_seconds", "How long tunnels stayed open, by route entry.", all,
                r -> r.duration));
        out.add(histogram("fedlink_tunnel_setup_seconds", "From accepting the client to the target connection"
                + " (ClientHello, lookup and connect), by route entry.", all, r -> r.setup));
        out.add(histogram("fedlink_connect_seconds", "From starting the connect to the target (name lookup"
                + " included) until it was established, by route entry.", all, r -> r.connect));
        collectTargets(s, out);
        collectAgents(s, out);
        HistogramSnapshot.Builder hello = HistogramSnapshot.builder().name("fedlink_client_hello_bytes")
                .help("Size of the ClientHello (its TLS records) of tunnels opened, by route entry.").unit(Unit.BYTES);
        all.forEach(r -> hello.dataPoint(r.helloBytes.snapshot(r.labels)));
        out.add(hello.build());
        collectRoutes(out);
        collectHttp(out);
        return new MetricSnapshots(out);
    }

    /**
     * Open tunnels by the route label the current table gives them, counted at scrape time from the proxy's list: a
     * gauge kept by the callbacks would drift when a reload moves a name to another entry between open and close.
     */
    private Map<RouteSeries, Integer> liveByRoute(TunnelServer s) {
        Map<RouteSeries, Integer> live = new HashMap<>();
        if (s != null) {
            RouteLabels l = labels;
            for (Tunnel t : s.tunnels()) {
                live.merge(l.of(t.serverName()), 1, Integer::sum);
            }
        }
        return live;
    }

    private void collectStats(TunnelStats st, List<MetricSnapshot> out) {
        out.add(counter("fedlink_connections_accepted", "Client connections accepted.", List.of(st),
                (x, b) -> b.accept(Labels.EMPTY, x.accepted())));
        out.add(counter("fedlink_connections_routed", "Connections whose ClientHello resolved to a route.",
                List.of(st), (x, b) -> b.accept(Labels.EMPTY, x.routed())));
        out.add(counter("fedlink_connections_refused", "Connections refused before becoming a tunnel, by reason.",
                List.of(RefusalReason.values()), (r, b) -> b.accept(Labels.of("reason", lower(r)), st.refused(r))));
        out.add(counter("fedlink_bytes", "Bytes copied, by direction (open tunnels included).", List.of(st),
                (x, b) -> {
                    b.accept(Labels.of("direction", FROM_CLIENT), x.bytesFromClients());
                    b.accept(Labels.of("direction", TO_CLIENT), x.bytesToClients());
                }));
        out.add(gauge("fedlink_pending_handshakes", "Connections still reading their ClientHello or connecting.",
                List.of(st), (x, b) -> b.accept(Labels.EMPTY, x.pendingHandshakes())));
        BuffersInUse buf = buffers;
        Long inUse = buf == null ? null : buf.read();
        if (inUse != null) {
            out.add(gauge("fedlink_buffers_in_use", "Pooled copy buffers borrowed now.", List.of(inUse),
                    (x, b) -> b.accept(Labels.EMPTY, x)));
        }
    }

    /**
     * The health of every configured target, read at scrape time from {@link TunnelServer#targets()}: labelled by
     * route entry and the target as written (a {@code $1} template stays a template), so bounded by the
     * configuration, never by what clients send. A target a reload removed disappears with its series.
     */
    private static void collectTargets(TunnelServer s, List<MetricSnapshot> out) {
        Map<String, Map.Entry<Labels, TargetStatus>> targets = new LinkedHashMap<>();
        if (s != null) {
            for (TargetStatus t : s.targets()) { // one series per pair, even if a route were named "none"
                targets.putIfAbsent(t.route() + '\n' + t.target(),
                        Map.entry(Labels.of("route", t.route(), "target", t.target()), t));
            }
        }
        List<Map.Entry<Labels, TargetStatus>> all = List.copyOf(targets.values());
        out.add(gauge("fedlink_target_up", "1 while a route's target takes new connections, 0 while it is ejected"
                + " after failed connects (or active checks).", all,
                (e, b) -> b.accept(e.getKey(), e.getValue().up() ? 1 : 0)));
        out.add(counter("fedlink_target_connect_failures", "Failed or timed-out connects (and active checks) to a"
                + " route's target since it was configured.", all,
                (e, b) -> b.accept(e.getKey(), e.getValue().connectFailures())));
        out.add(gauge("fedlink_target_connections", "Connections connecting or tunnelling to a route's target now.",
                all, (e, b) -> b.accept(e.getKey(), e.getValue().connections())));
    }

    /**
     * Party agents, by party: one series for each party a route in force sends to its agent (bounded by the
     * configuration; an agent is admitted only for such a party), and refusals on the agent port by reason.
     */
    private void collectAgents(TunnelServer s, List<MetricSnapshot> out) {
        if (s == null || s.agentAddress() == null) {
            return;
        }
        Map<String, long[]> byParty = agentsByParty(s);
        List<Map.Entry<String, long[]>> all = List.copyOf(byParty.entrySet());
        out.add(gauge("fedlink_agents_connected", "Party agents connected now, by party (0: the party's routes are"
                + " refused with agent_unavailable).", all, (e, b) -> b.accept(Labels.of("party", e.getKey()),
                e.getValue()[0])));
        out.add(gauge("fedlink_agent_pool", "Idle data connections the party's agents hold, ready for new tunnels.",
                all, (e, b) -> b.accept(Labels.of("party", e.getKey()), e.getValue()[1])));
        out.add(counter("fedlink_agent_refused", "Agent connections refused or cut off, by reason.",
                List.copyOf(s.agentRefusals().entrySet()),
                (e, b) -> b.accept(Labels.of("reason", e.getKey()), e.getValue())));
    }

    /** Connected agents and idle data connections for each party the routes send to its agent. */
    private Map<String, long[]> agentsByParty(TunnelServer s) {
        Map<String, long[]> byParty = new java.util.TreeMap<>();
        routes.current().agentParties().forEach(party -> byParty.put(party, new long[2]));
        for (AgentStatus a : s.agents()) {
            long[] v = byParty.get(a.party());
            if (v != null) {
                v[0]++;
                v[1] += a.pooled();
            }
        }
        return byParty;
    }

    /**
     * One line per party a route sends to its agent ({@code agent 10000: 1 connected, 2 idle data connections}),
     * for {@code /readyz}; empty without an agent listener. A party without an agent does not make the proxy
     * unready: the proxy serves every other route.
     */
    public List<String> agentLines() {
        TunnelServer s = server;
        if (s == null || s.agentAddress() == null) {
            return List.of();
        }
        List<String> lines = new ArrayList<>();
        agentsByParty(s).forEach((party, v) -> lines.add("agent " + party + ": " + (v[0] == 0 ? "none connected"
                : v[0] + " connected, " + v[1] + " idle data connections")));
        return lines;
    }

    private void collectRoutes(List<MetricSnapshot> out) {
        RouteTable t = routes.current();
        out.add(gauge("fedlink_route_table_entries", "Entries of the route table in force.", List.of(t),
                (x, b) -> b.accept(Labels.EMPTY, x.size())));
        out.add(gauge("fedlink_route_table_version", "Route tables swapped in since start, the first one included.",
                List.of(version), (x, b) -> b.accept(Labels.EMPTY, x.get())));
        out.add(gauge("fedlink_route_table_last_reload_timestamp_seconds",
                "When the route table in force was swapped in (Unix time).", List.of(lastReloadMillis),
                (x, b) -> b.accept(Labels.EMPTY, x / 1000.0)));
        BooleanSupplier failing = reloadFailing;
        if (failing != null) {
            out.add(gauge("fedlink_route_reload_failing", "1 while the route source refuses its latest change.",
                    List.of(failing), (x, b) -> b.accept(Labels.EMPTY, x.getAsBoolean() ? 1 : 0)));
        }
        RegistryHealth registry = registryHealth();
        if (registry != null) {
            out.add(gauge("fedlink_registry_state", "1 for the registry's current state (ok, or why it cannot be"
                    + " read: unreachable, refused, too_large, failed), 0 for the others.", registryStates,
                    (x, b) -> b.accept(Labels.of("state", x), x.equals(registry.state()) ? 1 : 0)));
        }
        out.add(gauge("fedlink_ready", "1 when /readyz answers 200.", List.of(this),
                (x, b) -> b.accept(Labels.EMPTY, x.notReady().isEmpty() ? 1 : 0)));
    }

    private void collectHttp(List<MetricSnapshot> out) {
        List<Map.Entry<String, BoundedHttpServer>> all = new ArrayList<>(new TreeMap<>(httpServers)
                .entrySet());
        out.add(counter("fedlink_http_refused", "Connections and requests the proxy's HTTP servers (metrics, admin)"
                + " refused, by server and reason.", all, (e, b) -> {
                    for (BoundedHttpServer.Refusal r : BoundedHttpServer.Refusal.values()) {
                        b.accept(Labels.of("server", e.getKey(), "reason", r.label()), e.getValue().refused(r));
                    }
                }));
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /** One labelled value. */
    @FunctionalInterface
    private interface Point {
        void accept(Labels labels, double value);
    }

    private static <T> CounterSnapshot counter(String name, String help, List<T> items, BiConsumer<T, Point> points) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
        items.forEach(i -> points.accept(i, (l, v) -> b.dataPoint(
                CounterDataPointSnapshot.builder().labels(l).value(v).build())));
        return b.build();
    }

    private static <T> GaugeSnapshot gauge(String name, String help, List<T> items, BiConsumer<T, Point> points) {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
        items.forEach(i -> points.accept(i, (l, v) -> b.dataPoint(
                GaugeDataPointSnapshot.builder().labels(l).value(v).build())));
        return b.build();
    }

    private static HistogramSnapshot histogram(String name, String help, List<RouteSeries> all,
                                               Function<RouteSeries, Histogram> h) {
        HistogramSnapshot.Builder b = HistogramSnapshot.builder().name(name).help(help).unit(Unit.SECONDS);
        all.forEach(r -> b.dataPoint(h.apply(r).snapshot(r.labels)));
        return b.build();
    }
}
