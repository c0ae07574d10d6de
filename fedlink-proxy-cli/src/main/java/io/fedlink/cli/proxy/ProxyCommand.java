package io.fedlink.cli.proxy;

import io.fedlink.api.AccessLogFormat;
import io.fedlink.app.AdminSocket;
import io.fedlink.app.PemFilesMaterial;
import io.fedlink.app.ProxyApp;
import io.fedlink.api.CidrBlock;
import io.fedlink.api.Endpoint;
import io.fedlink.api.RouteSource;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServerConfig;
import io.fedlink.metrics.RegistryHealth;
import io.fedlink.registry.EtcdRouteSource;
import io.fedlink.sni.RouteFileSource;
import io.fedlink.sni.SniProxy;
import io.fedlink.cli.support.Durations;
import io.fedlink.cli.support.EtcdOptions;
import io.fedlink.cli.support.Secrets;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code fedlink proxy}: the SNI tunnel proxy with routes from a Traffic Server {@code sni.yaml}, reloaded when the
 * file changes ({@link RouteFileSource}: bounded, debounced; a bad or missing file is logged and refused, the previous
 * routes stay in force), or from a federation in etcd ({@code --etcd URLS --federation NAME}: the registry's
 * {@code EtcdRouteSource}, the last good table kept while etcd is unreachable). SIGHUP re-reads the route file (or
 * the federation's prefix) at once. With {@code --metrics}, the registry's state shows in {@code /readyz} and
 * {@code fedlink_registry_state}. Exits non-zero if the proxy stops serving after an internal failure.
 */
@Command(name = "proxy", mixinStandardHelpOptions = true, subcommands = CloseTunnelsCommand.class,
        description = "Run the SNI tunnel proxy: route each TLS connection by its server name, bytes untouched.")
public final class ProxyCommand implements Callable<Integer> {

    @Option(names = "--listen", defaultValue = "0.0.0.0:443", description = "address:port (default: ${DEFAULT-VALUE})")
    String listen;
    @Option(names = "--routes", description = "route file, Traffic Server sni.yaml subset (or give --etcd)")
    Path routes;
    @Mixin
    EtcdOptions etcd;
    @Option(names = "--routes-cache", paramLabel = "FILE",
            description = "with --etcd: keep the federation's routes in this file (0600) and start from it when etcd"
                    + " is unreachable at start")
    Path routesCache;
    @Option(names = "--default", description = "host:port for unknown names and hellos without a name")
    String defaultRoute;
    @Option(names = "--hello-timeout", defaultValue = "10s", converter = Durations.class,
            description = "deadline for the ClientHello (default: ${DEFAULT-VALUE})")
    Duration helloTimeout;
    @Option(names = "--connect-timeout", defaultValue = "5s", converter = Durations.class,
            description = "deadline for connecting to a target (default: ${DEFAULT-VALUE})")
    Duration connectTimeout;
    @Option(names = "--idle-timeout", defaultValue = "0", converter = Durations.class,
            description = "close tunnels idle this long; 0 = never (default: ${DEFAULT-VALUE})")
    Duration idleTimeout;
    @Option(names = "--max-tunnels", defaultValue = "10000", description = "live tunnel limit (default: ${DEFAULT-VALUE})")
    int maxTunnels;
    @Option(names = "--max-handshakes", defaultValue = "1000",
            description = "limit on connections still in the hello phase (default: ${DEFAULT-VALUE})")
    int maxHandshakes;
    @Option(names = "--max-handshakes-per-client", defaultValue = "100",
            description = "limit on connections in the hello phase from one client address (default: ${DEFAULT-VALUE})")
    int maxHandshakesPerClient;
    @Option(names = "--buffer-memory-mib", defaultValue = "0",
            description = "direct memory for copy buffers in MiB; 0 = half the JVM's direct-memory limit"
                    + " (default: ${DEFAULT-VALUE})")
    int bufferMemoryMib;
    @Option(names = "--buffer-kib", defaultValue = "64", // the library's 16 KiB cost bulk 0.1-0.15 of direct
            description = "size of one copy buffer in KiB, 1..1024; a tunnel borrows one per direction while bytes"
                    + " are in flight (default: ${DEFAULT-VALUE})")
    int bufferKib;
    @Option(names = "--max-hello-bytes", defaultValue = "16384",
            description = "ClientHello cap, 512..65536 (default: ${DEFAULT-VALUE})")
    int maxHelloBytes;
    @Option(names = "--event-loops", description = "selector threads (default: available processors)")
    Integer eventLoops;
    @Option(names = "--silent-refusals", description = "close refused connections without a TLS alert")
    boolean silent;
    @Option(names = "--keep-unrouted-tunnels", description = "on a route reload, let live tunnels whose route was "
            + "removed or changed run until they end (default: close them at once, reason ROUTE_REMOVED)")
    boolean keepUnrouted;
    @Option(names = "--reload-interval", defaultValue = "2s", converter = Durations.class,
            description = "how often to check the route file for changes; SIGHUP reads it at once"
                    + " (default: ${DEFAULT-VALUE})")
    Duration reloadInterval;
    @Option(names = "--drain", defaultValue = "10s", converter = Durations.class,
            description = "on SIGTERM, let tunnels drain this long (default: ${DEFAULT-VALUE})")
    Duration drain;
    @Option(names = "--metrics", paramLabel = "[IP:]PORT",
            description = "serve Prometheus /metrics, /healthz and /readyz on this address (IP 127.0.0.1 when only"
                    + " a port is given), e.g. 9464 or 10.0.0.5:9464")
    String metrics;
    @Option(names = "--admin", arity = "0..1", fallbackValue = "", paramLabel = "SOCKET",
            description = "serve the admin endpoint (POST /tunnels/close, used by 'fedlink proxy close-tunnels') on"
                    + " a Unix socket only the proxy's user can reach: SOCKET, else --admin-socket's, else the"
                    + " default one")
    String admin;
    @Option(names = "--admin-socket", paramLabel = "PATH",
            description = "the admin endpoint's Unix socket (implies --admin), made 0600 in a folder that must be"
                    + " the proxy user's own with mode 0700 (created so when missing; default:"
                    + " $XDG_RUNTIME_DIR/fedlink/admin.sock, else fedlink-UID/admin.sock in the temporary folder)")
    Path adminSocket;
    @Option(names = "--admin-tcp", paramLabel = "[IP:]PORT",
            description = "also serve the admin endpoint on TCP (IP 127.0.0.1 when only a port is given), each"
                    + " request with the bearer token of --admin-token-file")
    String adminTcp;
    @Option(names = "--admin-token-file", paramLabel = "FILE",
            description = "with --admin-tcp: the file (mode 0600) holding the token clients must send as"
                    + " 'Authorization: Bearer TOKEN'")
    Path adminTokenFile;
    @Option(names = "--admin-allow-remote",
            description = "allow --admin-tcp on an address other than loopback: whoever has the token and reaches"
                    + " it can close tunnels")
    boolean adminAllowRemote;
    @Option(names = "--access-log-format", defaultValue = "text", paramLabel = "text|json",
            description = "text: key=value access and refusal lines in the log (standard error); json: one JSON"
                    + " object per tunnel and per refusal on standard output, which then carries nothing else"
                    + " (default: ${DEFAULT-VALUE})")
    AccessLogFormat accessLogFormat;
    @Option(names = "--proxy-protocol-from", split = ",", paramLabel = "CIDR", converter = Cidrs.class,
            description = "load balancers trusted to send a PROXY protocol v1/v2 header (e.g. 10.0.0.0/8); their"
                    + " connections must start with one, and its client address is used for allow lists, limits,"
                    + " logs and outgoing PROXY headers (default: none)")
    List<CidrBlock> proxyProtocolFrom = List.of();
    @Option(names = "--proxy-header-timeout", defaultValue = "3s", converter = Durations.class,
            description = "deadline for a trusted PROXY header, within --hello-timeout (default: ${DEFAULT-VALUE})")
    Duration proxyHeaderTimeout;

    @Option(names = "--max-connections-per-client", defaultValue = "0",
            description = "connections open at once from one client address, 0 = no limit (default: ${DEFAULT-VALUE})")
    int maxConnectionsPerClient;
    @Option(names = "--connection-rate-per-client", defaultValue = "0", paramLabel = "PER_SECOND",
            description = "new connections a second from one client address (bursts of one second's worth),"
                    + " 0 = no limit (default: ${DEFAULT-VALUE})")
    double connectionRatePerClient;
    @Option(names = "--client-ipv6-prefix", defaultValue = "64", paramLabel = "BITS",
            description = "per-client limits count an IPv6 client (direct or announced by a PROXY header) by its"
                    + " first BITS bits, so one site's addresses share one count; 128 = every address apart,"
                    + " 1..128 (default: ${DEFAULT-VALUE})")
    int clientIpv6Prefix;

    @Option(names = "--target-failures", defaultValue = "3", paramLabel = "N",
            description = "skip a route's target after N failed connects in a row (refused, unreachable, lookup"
                    + " failed, timed out); 0 = never skip, 0..1000 (default: ${DEFAULT-VALUE})")
    int targetFailures;
    @Option(names = "--target-ejection", defaultValue = "10s", converter = Durations.class, paramLabel = "DURATION",
            description = "how long a failing target is skipped before one connection tries it again"
                    + " (default: ${DEFAULT-VALUE})")
    Duration targetEjection;
    @Option(names = "--health-check-interval", defaultValue = "0", converter = Durations.class,
            paramLabel = "DURATION", description = "active TCP check of every fixed target this often, at least"
                    + " 100ms; 0 = off (default: ${DEFAULT-VALUE})")
    Duration healthCheckInterval;

    @CommandLine.Mixin
    AgentListenOptions agents = new AgentListenOptions();

    /** Reads one {@code --proxy-protocol-from} range. */
    static final class Cidrs implements CommandLine.ITypeConverter<CidrBlock> {
        @Override
        public CidrBlock convert(String value) {
            try {
                return CidrBlock.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage() + "; give address/prefix ranges"
                        + " separated by commas, e.g. 10.0.0.0/8,fd00::/8");
            }
        }
    }

    /** Adds the {@code --default} route for unknown names and hellos without a name, unless the file has them. */
    RouteTable withDefault(RouteTable t) {
        if (defaultRoute == null) {
            return t;
        }
        Endpoint d = Endpoint.parse(defaultRoute);
        RouteTable.Builder b = t.toBuilder();
        if (t.unknownNameRoute() == null) {
            b.whenUnknownName(d);
        }
        if (t.noServerNameRoute() == null) {
            b.whenNoServerName(d);
        }
        return b.build();
    }

    @Spec
    CommandSpec spec;

    /** Bounds every duration option before anything is bound, naming the option. */
    private void checkDurations() {
        CommandLine cl = spec.commandLine();
        Duration hour = Duration.ofHours(1);
        Durations.check(cl, "--hello-timeout", helloTimeout, false, hour, "1h");
        Durations.check(cl, "--connect-timeout", connectTimeout, false, hour, "1h");
        Durations.check(cl, "--idle-timeout", idleTimeout, true, TunnelServerConfig.MAX_IDLE_TIMEOUT, "30 days");
        Durations.check(cl, "--reload-interval", reloadInterval, false, hour, "1h");
        Durations.check(cl, "--drain", drain, true, hour, "1h");
        Durations.check(cl, "--proxy-header-timeout", proxyHeaderTimeout, false, hour, "1h");
        Durations.check(cl, "--target-ejection", targetEjection, false, hour, "1h");
        Durations.check(cl, "--health-check-interval", healthCheckInterval, true, hour, "1h");
        if (!healthCheckInterval.isZero()
                && healthCheckInterval.compareTo(TunnelServerConfig.MIN_HEALTH_CHECK_INTERVAL) < 0) {
            throw new CommandLine.ParameterException(cl, "invalid value for option '--health-check-interval': "
                    + healthCheckInterval.toMillis() + "ms must be 0 (off) or at least 100ms");
        }
        if (bufferKib < 1 || bufferKib > 1024) {
            throw new CommandLine.ParameterException(cl, "invalid value for option '--buffer-kib': " + bufferKib
                    + " must be 1 to 1024 (KiB)");
        }
        if (clientIpv6Prefix < 1 || clientIpv6Prefix > 128) {
            throw new CommandLine.ParameterException(cl, "invalid value for option '--client-ipv6-prefix': "
                    + clientIpv6Prefix + " must be 1 to 128 (bits)");
        }
        if (targetFailures < 0 || targetFailures > 1000) {
            throw new CommandLine.ParameterException(cl, "invalid value for option '--target-failures': "
                    + targetFailures + " must be 0 (never skip) to 1000");
        }
    }

    /** Checks that exactly one route source is named, and the options that only fit one of them. */
    private void checkRouteSource() {
        CommandLine cl = spec.commandLine();
        if ((routes == null) == !etcd.given()) {
            throw new CommandLine.ParameterException(cl, routes == null
                    ? "give the routes: --routes sni.yaml, or --etcd URLS --federation NAME"
                    : "give either --routes or --etcd, not both");
        }
        if (etcd.given() && defaultRoute != null) {
            throw new CommandLine.ParameterException(cl, "--default applies to --routes only: with --etcd, the"
                    + " federation's settings are the routes");
        }
        if (!etcd.given() && routesCache != null) {
            throw new CommandLine.ParameterException(cl, "--routes-cache needs --etcd");
        }
    }

    /** The {@code --metrics} address: an IP literal and a port, like {@code --listen}; loopback for a bare port. */
    private InetSocketAddress metricsAddress() {
        return ipAndPort("--metrics", metrics, 9464);
    }

    /**
     * An {@code [IP:]PORT} option's address: an IP literal (no lookup) and a port; {@code 127.0.0.1} for a bare
     * port.
     */
    static InetSocketAddress ipAndPort(String option, String value, int examplePort) {
        String v = value.strip();
        InetSocketAddress a;
        try {
            a = Endpoint.parse(v.matches("\\d+") ? "127.0.0.1:" + v : v).toSocketAddress();
        } catch (IllegalArgumentException e) {
            a = null;
        }
        if (a == null || a.isUnresolved() || a.getPort() == 0) {
            throw new IllegalArgumentException(option + " " + value + " must be [IP:]PORT, for example "
                    + examplePort + " or 127.0.0.1:" + examplePort);
        }
        return a;
    }

    /** The {@code --admin-tcp} address: loopback unless {@code --admin-allow-remote} says otherwise. */
    private InetSocketAddress adminTcpAddress() {
        CommandLine cl = spec.commandLine();
        if (adminTokenFile == null) {
            throw new CommandLine.ParameterException(cl, "--admin-tcp needs --admin-token-file FILE: the TCP admin"
                    + " endpoint answers only requests with that token (put a long random one in a file, chmod 600)");
        }
        InetSocketAddress a = ipAndPort("--admin-tcp", adminTcp, 9470);
        if (!a.getAddress().isLoopbackAddress() && !adminAllowRemote) {
            throw new CommandLine.ParameterException(cl, "--admin-tcp " + adminTcp + " is not a loopback address:"
                    + " anyone who reaches it and has the token can close tunnels, and the token travels in clear"
                    + " text; bind 127.0.0.1 (e.g. --admin-tcp 9470), or add --admin-allow-remote if only trusted"
                    + " hosts can reach that address");
        }
        return a;
    }

    /** The admin socket's path, or null when not asked for; refuses the old {@code --admin [IP:]PORT}. */
    private Path adminSocketPath() {
        if (admin != null && admin.matches("\\d+|[0-9A-Fa-f.:\\[\\]]+:\\d+")) { // [IP:]PORT, as before
            throw new CommandLine.ParameterException(spec.commandLine(), "--admin takes no address any more: the"
                    + " admin endpoint is a Unix socket only the proxy's user can reach (--admin, or --admin-socket"
                    + " PATH); for TCP give --admin-tcp " + admin + " --admin-token-file FILE");
        }
        if (admin != null && !admin.isEmpty()) {
            return Path.of(admin);
        }
        if (adminTokenFile != null && adminTcp == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--admin-token-file is for --admin-tcp:"
                    + " the admin socket needs no token (only the proxy's user can reach it)");
        }
        return adminSocket != null ? adminSocket : admin != null ? AdminSocket.defaultPath() : null;
    }

    /** Shows the registry's state ({@code EtcdRouteSource.State} in lower case) and problem in the metrics. */
    static void watchRegistry(ProxyApp.Builder app, EtcdRouteSource registry) {
        List<String> states = new ArrayList<>();
        for (EtcdRouteSource.State s : EtcdRouteSource.State.values()) {
            states.add(s.name().toLowerCase(Locale.ROOT));
        }
        app.registry(states, () -> {
            EtcdRouteSource.Stats s = registry.stats();
            return new RegistryHealth(s.state().name().toLowerCase(Locale.ROOT), s.problem());
        });
    }

    /** Runs the proxy until SIGTERM (status 0) or an internal failure that stops it serving (status 3). */
    @Override
    public Integer call() throws Exception {
        checkDurations();
        InetSocketAddress metricsAt = metrics == null ? null : metricsAddress();
        InetSocketAddress adminTcpAt = adminTcp == null ? null : adminTcpAddress();
        Path adminSocketAt = adminSocketPath();
        checkRouteSource();
        agents.check(spec.commandLine());
        var b = SniProxy.builder().bind(Endpoint.parse(listen)).helloTimeout(helloTimeout)
                .connectTimeout(connectTimeout).idleTimeout(idleTimeout).maxTunnels(maxTunnels)
                .maxPendingHandshakes(maxHandshakes).maxHandshakesPerClient(maxHandshakesPerClient)
                .maxBufferMemory((long) bufferMemoryMib << 20).bufferSize(bufferKib << 10).maxHelloBytes(maxHelloBytes)
                .refusalAlerts(!silent).closeUnroutedTunnels(!keepUnrouted)
                .proxyProtocolFrom(proxyProtocolFrom).proxyHeaderTimeout(proxyHeaderTimeout)
                .maxConnectionsPerClient(maxConnectionsPerClient).connectionRatePerClient(connectionRatePerClient)
                .clientIpv6PrefixLength(clientIpv6Prefix)
                .targetFailures(targetFailures).targetEjection(targetEjection)
                .healthCheckInterval(healthCheckInterval);
        if (eventLoops != null) {
            b.eventLoops(eventLoops);
        }
        RouteSource source = etcd.given() ? etcd.routeSource(routesCache)
                : new RouteFileSource(routes, reloadInterval, this::withDefault);
        ProxyApp.Builder app = ProxyApp.builder(b).routes(source).accessLog(accessLogFormat).drain(drain)
                .agentDomain(agents.domain);
        if (agents.given()) {
            PemFilesMaterial agentTls = agents.watchTls(reloadInterval); // re-read while the proxy runs
            app.closeWithApp(agentTls);
            b.agents(agents.config(agentTls));
        }
        if (metricsAt != null) {
            app.metrics(metricsAt);
            if (source instanceof EtcdRouteSource registry) { // the registry's state in the metrics and /readyz
                watchRegistry(app, registry);
            }
        }
        if (adminSocketAt != null) {
            app.adminSocket(adminSocketAt);
        }
        if (adminTcpAt != null) {
            app.adminTcp(adminTcpAt, Secrets.readToken(adminTokenFile));
        }
        ProxyApp running = app.start();
        HangupSignal.install(running::reload);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            running.close();
            stopped.countDown();
        }, "fedlink-proxy-shutdown"));
        // With JSON lines, standard output carries only them (for a log shipper); the announcements go to stderr.
        PrintStream announce = accessLogFormat == AccessLogFormat.JSON ? System.err : System.out;
        running.announcements().forEach(announce::println);
        announce.flush();
        while (!stopped.await(1, TimeUnit.SECONDS)) {
            if (!running.ready()) { // an event loop died: exit non-zero so a supervisor restarts the proxy
                System.err.println("fedlink: the proxy stopped serving after an internal failure (see the log);"
                        + " exiting so that it can be restarted");
                return 3;
            }
        }
        return 0;
    }
}
