package io.fedlink.api;

import java.util.function.Consumer;

/**
 * Telling a list of listeners about one event, the one way fedlink does it: every listener is called, in order, even
 * when an earlier one throws; the first exception is rethrown once all have run, with the later ones suppressed in
 * it. Used by {@link RouteHolder} for route swaps and by fedlink-metrics' {@code TunnelListeners} for tunnel events.
 */
public final class Listeners {
    private Listeners() {}

    /**
     * Calls {@code call} with each of {@code listeners}, in iteration order (a {@code CopyOnWriteArrayList} is read as
     * one snapshot).
     *
     * @throws RuntimeException the first one a listener threw, once every listener has been called
     */
    public static <L> void tellEach(Iterable<? extends L> listeners, Consumer<? super L> call) {
        RuntimeException failure = null;
        for (L listener : listeners) {
            try {
                call.accept(listener);
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
