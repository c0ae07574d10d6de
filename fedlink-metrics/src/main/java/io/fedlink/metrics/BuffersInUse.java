package io.fedlink.metrics;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Reads the pooled copy buffers a proxy has borrowed from its JMX view ({@code io.fedlink:type=SniProxy,
 * address="<ip>:<port>"}, attribute {@code BuffersInUse}): {@link io.fedlink.api.TunnelStats} does not carry the
 * figure. Read at scrape time only.
 */
final class BuffersInUse {
    private final MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
    private final ObjectName name;

    private BuffersInUse(ObjectName name) {
        this.name = name;
    }

    /** The reader for the proxy bound to {@code address}, or {@code null} when the name cannot be formed. */
    static BuffersInUse of(InetSocketAddress address) {
        try {
            return new BuffersInUse(new ObjectName("io.fedlink:type=SniProxy,address="
                    + ObjectName.quote(address.getAddress().getHostAddress() + ":" + address.getPort())));
        } catch (JMException e) {
            return null;
        }
    }

    /** Buffers borrowed now, or {@code null} when the proxy has no such JMX view (another transport, or closed). */
    Long read() {
        try {
            return jmx.isRegistered(name) ? ((Number) jmx.getAttribute(name, "BuffersInUse")).longValue() : null;
        } catch (JMException | ClassCastException e) {
            return null;
        }
    }
}
