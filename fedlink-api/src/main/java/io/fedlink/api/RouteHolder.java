package io.fedlink.api;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Holds the current {@link RouteTable} and swaps it atomically. Readers see either the old or the new snapshot,
 * never a mix, and never block. Listeners run on the swapping thread after the swap; a failing listener does not
 * stop the others and its exception is rethrown to the swapper once all have run.
 */
public final class RouteHolder {
    /** Told about each swap. */
    @FunctionalInterface
    public interface Listener {
        /** Called after {@code next} replaced {@code previous}. */
        void routesChanged(RouteTable previous, RouteTable next);
    }

    private final AtomicReference<RouteTable> current;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    /** Starts with {@code initial}. */
    public RouteHolder(RouteTable initial) {
        this.current = new AtomicReference<>(Objects.requireNonNull(initial, "initial"));
    }

    /** The current snapshot. */
    public RouteTable current() {
        return current.get();
    }

    /** Replaces the snapshot and notifies listeners; returns the previous one. */
    public RouteTable swap(RouteTable next) {
        RouteTable previous = current.getAndSet(Objects.requireNonNull(next, "next"));
        Listeners.tellEach(listeners, l -> l.routesChanged(previous, next));
        return previous;
    }

    /** Registers a listener for later swaps. */
    public void addListener(Listener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** Removes a listener; returns whether it was registered. */
    public boolean removeListener(Listener listener) {
        return listeners.remove(listener);
    }
}
