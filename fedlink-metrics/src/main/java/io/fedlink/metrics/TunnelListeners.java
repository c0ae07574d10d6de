package io.fedlink.metrics;

import io.fedlink.api.RefusalReason;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelListener;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Consumer;

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
                each(list, l -> l.tunnelOpened(tunnel));
            }

            @Override
            public void tunnelClosed(Tunnel tunnel) {
                each(list, l -> l.tunnelClosed(tunnel));
            }

            @Override
            public void connectionRefused(InetSocketAddress client, String serverName, RefusalReason reason) {
                each(list, l -> l.connectionRefused(client, serverName, reason));
            }
        };
    }

    private static void each(List<TunnelListener> list, Consumer<TunnelListener> call) {
        RuntimeException failure = null;
        for (int i = 0; i < list.size(); i++) {
            try {
                call.accept(list.get(i));
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
