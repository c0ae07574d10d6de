package io.fedlink.sni;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.TreeMap;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JMX view of one {@link LoopServer}, registered as
 * {@code io.fedlink:type=SniProxy,address="<ip>:<port>"} while the server runs.
 */
final class ProxyMBean implements SniProxyMXBean {
    private static final Logger log = LoggerFactory.getLogger(ProxyMBean.class);

    private final LoopServer server;
    private final ProxyContext ctx;

    private ProxyMBean(LoopServer server, ProxyContext ctx) {
        this.server = server;
        this.ctx = ctx;
    }

    /** Registers the view; returns its name, or {@code null} (logged) when JMX refuses. */
    static ObjectName register(LoopServer server, ProxyContext ctx, InetSocketAddress address) {
        try {
            ObjectName name = new ObjectName("io.fedlink:type=SniProxy,address="
                    + ObjectName.quote(address.getAddress().getHostAddress() + ":" + address.getPort()));
            ManagementFactory.getPlatformMBeanServer().registerMBean(new ProxyMBean(server, ctx), name);
            return name;
        } catch (Exception e) {
            log.warn("JMX registration failed for {}: {}", address, e.toString());
            return null;
        }
    }

    static void unregister(ObjectName name) {
        if (name != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
            } catch (Exception e) {
                log.debug("JMX unregistration", e);
            }
        }
    }

    @Override
    public long getAccepted() {
        return ctx.counters.accepted.sum();
    }

    @Override
    public long getRouted() {
        return ctx.counters.routed.sum();
    }

    @Override
    public Map<String, Long> getRefused() {
        Map<String, Long> m = new TreeMap<>();
        server.stats().refused().forEach((k, v) -> m.put(k.name(), v));
        return m;
    }

    @Override
    public Map<String, Long> getClosed() {
        Map<String, Long> m = new TreeMap<>();
        server.stats().closed().forEach((k, v) -> m.put(k.name(), v));
        return m;
    }

    @Override
    public long getConnectFailures() {
        return ctx.counters.connectFailures.sum();
    }

    @Override
    public long getTimeouts() {
        return ctx.counters.timeouts.sum();
    }

    @Override
    public long getBytesFromClients() {
        return ctx.counters.bytesFromClients.sum();
    }

    @Override
    public long getBytesToClients() {
        return ctx.counters.bytesToClients.sum();
    }

    @Override
    public long getLiveTunnels() {
        return ctx.counters.liveTunnels.get();
    }

    @Override
    public long getPendingHandshakes() {
        return ctx.counters.pending.get();
    }

    @Override
    public int getBuffersInUse() {
        return server.buffersInUse();
    }

    @Override
    public boolean isReady() {
        return server.ready();
    }

    @Override
    public long getDroppedLogLines() {
        return ctx.events.dropped();
    }

    @Override
    public long getInternalErrors() {
        return ctx.counters.internalErrors.sum();
    }

    @Override
    public long getBufferMemoryUsed() {
        return ctx.budget.used();
    }

    @Override
    public int getRouteCount() {
        return ctx.routes().size();
    }
}
