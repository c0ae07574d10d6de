package io.fedlink.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** The target-health settings of {@link TunnelServerConfig}: defaults, and refusals naming the setting. */
class TargetOptionsTest {
    private static TunnelServerConfig.Builder base() {
        return Tunnels.server().routes(RouteTable.empty());
    }

    @Test
    void defaults() {
        TunnelServerConfig c = base().build();
        assertEquals(3, c.targetFailures());
        assertEquals(Duration.ofSeconds(10), c.targetEjection());
        assertEquals(Duration.ZERO, c.healthCheckInterval());
        TunnelServerConfig set = base().targetFailures(0).targetEjection(Duration.ofMinutes(1))
                .healthCheckInterval(Duration.ofMillis(100)).build();
        assertEquals(0, set.targetFailures());
        assertEquals(Duration.ofMinutes(1), set.targetEjection());
        assertEquals(Duration.ofMillis(100), set.healthCheckInterval());
    }

    @Test
    void refusalsNameTheSetting() {
        assertRefused(b -> b.targetFailures(-1), "targetFailures must be 0..1000, was -1");
        assertRefused(b -> b.targetFailures(1001), "targetFailures must be 0..1000, was 1001");
        assertRefused(b -> b.targetEjection(Duration.ZERO), "targetEjection must be positive, was PT0S");
        assertRefused(b -> b.targetEjection(null), "targetEjection must be positive, was null");
        assertRefused(b -> b.targetEjection(Duration.ofHours(2)), "targetEjection must be at most 1 hour");
        assertRefused(b -> b.healthCheckInterval(Duration.ofMillis(-1)),
                "healthCheckInterval must be zero (none) or positive");
        assertRefused(b -> b.healthCheckInterval(Duration.ofMillis(99)),
                "healthCheckInterval must be zero (none) or at least 100 ms, was PT0.099S");
        assertRefused(b -> b.healthCheckInterval(Duration.ofHours(2)), "healthCheckInterval must be at most 1 hour");
    }

    private static void assertRefused(UnaryOperator<TunnelServerConfig.Builder> set, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> set.apply(base()).build());
        assertEquals(true, e.getMessage().startsWith(message), e.getMessage());
    }
}
