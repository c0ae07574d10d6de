package io.fedlink.sni;

import java.util.Map;

/**
 * JMX view of a running proxy, registered as {@code io.fedlink:type=SniProxy,address="<ip>:<port>"} while it runs.
 */
public interface SniProxyMXBean {
    /** Connections accepted. */
    long getAccepted();

    /** Connections routed to a target. */
    long getRouted();

    /** Refusals by reason name. */
    Map<String, Long> getRefused();

    /** Ended tunnels by close reason name ({@code ROTATED}: closed on request so that clients reconnect). */
    Map<String, Long> getClosed();

    /** Failed or timed-out connects. */
    long getConnectFailures();

    /** Hello, connect and idle timeouts. */
    long getTimeouts();

    /** Bytes from clients to targets. */
    long getBytesFromClients();

    /** Bytes from targets to clients. */
    long getBytesToClients();

    /** Tunnels open now. */
    long getLiveTunnels();

    /** Connections in the hello or connect phase now. */
    long getPendingHandshakes();

    /** Copy buffers borrowed now, across loops. */
    int getBuffersInUse();

    /** Whether the proxy serves new connections (false once closed or after an event loop died). */
    boolean isReady();

    /** Log lines dropped because the log queue was full (a log sink that does not keep up). */
    long getDroppedLogLines();

    /** Connections closed because of an unexpected failure while serving them. */
    long getInternalErrors();

    /** Bytes of direct copy buffers allocated now, against the configured budget. */
    long getBufferMemoryUsed();

    /** Number of routes in the current table. */
    int getRouteCount();
}
