package io.fedlink.sni;

import io.fedlink.api.CloseReason;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.TunnelStats;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** The proxy's counters: striped adders written by the loops, summed on read. */
final class ProxyCounters {
    final LongAdder accepted = new LongAdder();
    final LongAdder routed = new LongAdder();
    final LongAdder connectFailures = new LongAdder();
    final LongAdder timeouts = new LongAdder();
    final LongAdder bytesFromClients = new LongAdder();
    final LongAdder bytesToClients = new LongAdder();
    final LongAdder internalErrors = new LongAdder();
    final AtomicInteger liveTunnels = new AtomicInteger();
    /** Connections connecting or tunnelling: each holds one of the maxTunnels slots. */
    final AtomicInteger tunnelSlots = new AtomicInteger();
    final AtomicInteger pending = new AtomicInteger();
    private final Map<RefusalReason, LongAdder> refused = new EnumMap<>(RefusalReason.class);
    private final Map<CloseReason, LongAdder> closed = new EnumMap<>(CloseReason.class);

    ProxyCounters() {
        for (RefusalReason r : RefusalReason.values()) {
            refused.put(r, new LongAdder());
        }
        for (CloseReason r : CloseReason.values()) {
            closed.put(r, new LongAdder());
        }
    }

    void closed(CloseReason reason) {
        closed.get(reason).increment();
    }

    void refused(RefusalReason reason) {
        refused.get(reason).increment();
        if (reason == RefusalReason.CONNECT_FAILED || reason == RefusalReason.CONNECT_TIMEOUT) {
            connectFailures.increment();
        }
        if (reason == RefusalReason.HELLO_TIMEOUT || reason == RefusalReason.CONNECT_TIMEOUT
                || reason == RefusalReason.PROXY_HEADER_TIMEOUT) {
            timeouts.increment();
        }
    }

    TunnelStats snapshot() {
        Map<RefusalReason, Long> r = new EnumMap<>(RefusalReason.class);
        refused.forEach((k, v) -> r.put(k, v.sum()));
        Map<CloseReason, Long> c = new EnumMap<>(CloseReason.class);
        closed.forEach((k, v) -> c.put(k, v.sum()));
        return new TunnelStats(accepted.sum(), routed.sum(), r, connectFailures.sum(), timeouts.sum(),
                bytesFromClients.sum(), bytesToClients.sum(), liveTunnels.get(), pending.get(), c);
    }
}
