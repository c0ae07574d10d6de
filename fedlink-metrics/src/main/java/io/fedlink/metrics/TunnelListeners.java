package io.fedlink.metrics;

import io.fedlink.api.Listeners;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelListener;
import java.net.InetSocketAddress;
import java.util.List;

/** Composes {@link TunnelListener}s, since a proxy takes one: for example the metrics and the embedder's own. */
public final class TunnelListeners {
    private TunnelListeners() {}

    /**
     * One listener telling each of {@code listeners} every event, in order. A listener that throws does not stop the
     * others; the first exception is rethrown (the others suppressed) once all have run.
     */
    public static TunnelListener all(TunnelListener... listeners) {
        List<TunnelListener> list = List.of(listeners);
        if (list.size() == 1) {
            return list.get(0);
        }
        return new TunnelListener() {
            @Override
            public void tunnelOpened(Tunnel tunnel) {
                Listeners.tellEach(list, l -> l.tunnelOpened(tunnel));
            }

            @Override
            public void tunnelClosed(Tunnel tunnel) {
                Listeners.tellEach(list, l -> l.tunnelClosed(tunnel));
            }

            @Override
            public void connectionRefused(InetSocketAddress client, String serverName, RefusalReason reason) {
                Listeners.tellEach(list, l -> l.connectionRefused(client, serverName, reason));
            }
        };
    }
}
