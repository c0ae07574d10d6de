package io.fedlink.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The one listener fan-out: everyone is told, the first failure is rethrown carrying the later ones. */
class ListenersTest {
    @Test
    void everyListenerRunsAndTheFirstFailureCarriesTheRest() {
        List<String> seen = new ArrayList<>();
        List<Consumer<String>> listeners = List.of(
                e -> seen.add("a " + e),
                e -> {
                    throw new IllegalStateException("b failed");
                },
                e -> seen.add("c " + e),
                e -> {
                    throw new IllegalArgumentException("d failed");
                });
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> Listeners.tellEach(listeners, l -> l.accept("event")));
        assertEquals("b failed", thrown.getMessage());
        assertEquals(1, thrown.getSuppressed().length);
        assertEquals("d failed", thrown.getSuppressed()[0].getMessage());
        assertEquals(List.of("a event", "c event"), seen);
        Listeners.tellEach(List.<Consumer<String>>of(), l -> l.accept("nobody"));
        assertArrayEquals(new Object[0], seen.stream().filter(s -> s.contains("nobody")).toArray());
    }
}
