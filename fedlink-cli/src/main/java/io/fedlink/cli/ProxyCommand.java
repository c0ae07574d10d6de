package io.fedlink.cli;

import io.fedlink.api.Endpoint;
import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServer;
import io.fedlink.sni.SniProxy;
import io.fedlink.sni.SniYaml;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.fedlink.api.TunnelServerConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code fedlink proxy}: the SNI tunnel proxy with routes from a Traffic Server {@code sni.yaml}, reloaded when the
 * file changes. A bad file is logged and refused; the previous routes stay in force.
 */
@Command(name = "proxy", mixinStandardHelpOptions = true,
        description = "Run the SNI tunnel proxy: route each TLS connection by its server name, bytes untouched.")
final class ProxyCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ProxyCommand.class);

    @Option(names = "--listen", defaultValue = "0.0.0.0:443", description = "address:port (default: ${DEFAULT-VALUE})")
    String listen;
    @Option(names = "--routes", required = true, description = "route file, Traffic Server sni.yaml subset")
    Path routes;
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
    @Option(names = "--max-hello-bytes", defaultValue = "16384",
            description = "ClientHello cap, 512..65536 (default: ${DEFAULT-VALUE})")
    int maxHelloBytes;
    @Option(names = "--event-loops", description = "selector threads (default: available processors)")
    Integer eventLoops;
    @Option(names = "--silent-refusals", description = "close refused connections without a TLS alert")
    boolean silent;
    @Option(names = "--reload-interval", defaultValue = "2s", converter = Durations.class,
            description = "how often to check the route file for changes (default: ${DEFAULT-VALUE})")
    Duration reloadInterval;
    @Option(names = "--drain", defaultValue = "10s", converter = Durations.class,
            description = "on SIGTERM, let tunnels drain this long (default: ${DEFAULT-VALUE})")
    Duration drain;

    RouteTable load() throws Exception {
        RouteTable t = SniYaml.read(routes);
        if (defaultRoute != null) {
            Endpoint d = Endpoint.parse(defaultRoute);
            RouteTable.Builder b = t.toBuilder();
            if (t.unknownNameRoute() == null) {
                b.whenUnknownName(d);
            }
            if (t.noServerNameRoute() == null) {
                b.whenNoServerName(d);
            }
            t = b.build();
        }
        return t;
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
    }

    @Override
    public Integer call() throws Exception {
        checkDurations();
        RouteHolder holder = new RouteHolder(load());
        var b = SniProxy.builder().bind(Endpoint.parse(listen)).routes(holder).helloTimeout(helloTimeout)
                .connectTimeout(connectTimeout).idleTimeout(idleTimeout).maxTunnels(maxTunnels)
                .maxPendingHandshakes(maxHandshakes).maxHelloBytes(maxHelloBytes).refusalAlerts(!silent);
        if (eventLoops != null) {
            b.eventLoops(eventLoops);
        }
        TunnelServer proxy = b.start();
        for (var r : holder.current().routes()) {
            log.info("route {}", r);
        }
        ScheduledExecutorService watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fedlink-route-reload");
            t.setDaemon(true);
            return t;
        });
        FileStamp[] last = {FileStamp.of(routes)};
        watcher.scheduleWithFixedDelay(() -> {
            FileStamp now = FileStamp.of(routes);
            if (now.equals(last[0])) {
                return;
            }
            last[0] = now;
            try {
                RouteTable next = load();
                holder.swap(next);
                log.info("reloaded {}: {} routes", routes, next.size());
            } catch (Exception e) {
                log.warn("refused to reload {}; keeping the previous {} routes: {}", routes,
                        holder.current().size(), e.getMessage());
            }
        }, reloadInterval.toMillis(), reloadInterval.toMillis(), TimeUnit.MILLISECONDS);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            watcher.shutdownNow();
            try {
                proxy.close(drain);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            stopped.countDown();
        }, "fedlink-proxy-shutdown"));
        System.out.println("fedlink proxy listening on " + proxy.localAddress() + " with "
                + holder.current().size() + " routes from " + routes);
        System.out.flush();
        stopped.await();
        return 0;
    }

    /** Size, modification time and content hash: changes are seen even within one mtime tick. */
    private record FileStamp(long size, long modified, int hash) {
        static FileStamp of(Path p) {
            try {
                return new FileStamp(Files.size(p), Files.getLastModifiedTime(p).toMillis(),
                        java.util.Arrays.hashCode(Files.readAllBytes(p)));
            } catch (Exception e) {
                return new FileStamp(-1, -1, 0);
            }
        }
    }
}
