package io.fedlink.sni;

import io.fedlink.api.RefusalReason;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Limits per client address: connections open at once and new connections a second (a token bucket of one second's
 * worth). An IPv6 client counts as its prefix ({@link #key}: one /64 is one site, and picking a fresh address in it
 * costs an attacker nothing). The table holds one entry per address with an open connection or a bucket still refilling, at most
 * {@link #MAX_ENTRIES}; when full, entries that are idle (no connection, bucket full) are dropped (one sweep a
 * second at most), and if none is, the new address is refused. Thread-safe; each address's entry changes atomically.
 */
final class ClientLimits {
    /** Most addresses tracked at once. */
    static final int MAX_ENTRIES = 65_536;

    private final int maxConnections;   // 0: unlimited
    private final double ratePerSecond; // 0: unlimited
    private final double burst;
    private final int maxEntries;
    private final int ipv6Prefix;
    private final Map<InetAddress, Entry> table = new ConcurrentHashMap<>();
    private volatile long lastSweepNanos;

    /** One address: open connections, tokens, when they were last refilled. Guarded by the map's per-key lock. */
    private static final class Entry {
        int open;
        double tokens;
        long refilledNanos;
    }

    ClientLimits(int maxConnections, double ratePerSecond, int maxEntries, int ipv6Prefix) {
        this.ipv6Prefix = ipv6Prefix;
        this.maxConnections = maxConnections;
        this.ratePerSecond = ratePerSecond;
        this.burst = Math.max(1, ratePerSecond);
        this.maxEntries = maxEntries;
    }

    /** Whether any limit is set (when none, nothing is tracked). */
    boolean enabled() {
        return maxConnections > 0 || ratePerSecond > 0;
    }

    /**
     * Counts a new connection from {@code client}, or says which limit refuses it (then nothing is counted). A
     * {@code null} answer must be paired with one {@link #release}.
     */
    RefusalReason admit(InetAddress address, long now) {
        InetAddress client = key(address, ipv6Prefix);
        if (table.size() >= maxEntries && !table.containsKey(client)) {
            evictIdle(now);
            if (table.size() >= maxEntries) {
                return RefusalReason.CLIENT_RATE_LIMIT;
            }
        }
        RefusalReason[] refusal = {null};
        table.compute(client, (k, e) -> {
            Entry entry = e != null ? e : fresh(now);
            refill(entry, now);
            if (maxConnections > 0 && entry.open >= maxConnections) {
                refusal[0] = RefusalReason.CLIENT_CONNECTION_LIMIT;
            } else if (ratePerSecond > 0 && entry.tokens < 1) {
                refusal[0] = RefusalReason.CLIENT_RATE_LIMIT;
            } else {
                entry.open++;
                entry.tokens -= ratePerSecond > 0 ? 1 : 0;
            }
            return entry.open == 0 && idle(entry, now) ? null : entry;
        });
        return refusal[0];
    }

    /** A connection admitted for {@code client} ended. */
    void release(InetAddress client, long now) {
        table.computeIfPresent(key(client, ipv6Prefix), (k, e) -> {
            e.open--;
            refill(e, now);
            return e.open <= 0 && idle(e, now) ? null : e;
        });
    }

    /**
     * What a client is counted as: an IPv4 address itself, an IPv6 address its first {@code ipv6Prefix} bits (the
     * rest zeroed; 128: the address itself). Never a lookup.
     */
    static InetAddress key(InetAddress client, int ipv6Prefix) {
        if (!(client instanceof Inet6Address) || ipv6Prefix >= 128) {
            return client;
        }
        byte[] a = client.getAddress();
        for (int bit = ipv6Prefix; bit < 128; bit++) {
            a[bit >> 3] &= (byte) ~(0x80 >> (bit & 7));
        }
        try {
            return InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new AssertionError("16 bytes are an address", e);
        }
    }

    /** Addresses tracked now. */
    int size() {
        return table.size();
    }

    private Entry fresh(long now) {
        Entry e = new Entry();
        e.tokens = burst;
        e.refilledNanos = now;
        return e;
    }

    private void refill(Entry e, long now) {
        if (ratePerSecond > 0) {
            e.tokens = Math.min(burst, e.tokens + (now - e.refilledNanos) * ratePerSecond / 1e9);
        }
        e.refilledNanos = now;
    }

    /** Nothing to remember: no open connection and the bucket is full (or there is no bucket). */
    private boolean idle(Entry e, long now) {
        return e.open <= 0 && (ratePerSecond <= 0
                || e.tokens + (now - e.refilledNanos) * ratePerSecond / 1e9 >= burst);
    }

    /** Drops idle entries; at most one sweep a second, so a flood of new addresses cannot make every accept scan. */
    private void evictIdle(long now) {
        long last = lastSweepNanos;
        if (last != 0 && now - last < 1_000_000_000L) {
            return;
        }
        lastSweepNanos = now;
        for (InetAddress a : table.keySet()) {
            table.computeIfPresent(a, (k, e) -> idle(e, now) ? null : e);
        }
    }
}
