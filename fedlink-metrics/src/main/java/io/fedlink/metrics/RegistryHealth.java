package io.fedlink.metrics;

import java.util.Objects;

/**
 * What the proxy's registry (the route source that reads etcd) says about its latest call, for {@code /readyz} and
 * {@code fedlink_registry_state}: a state such as {@code ok}, {@code unreachable}, {@code refused},
 * {@code too_large} or {@code failed}, and, unless {@code ok}, the problem in the registry's words (what failed and
 * what to do).
 *
 * @param state   the state's label, {@value #OK} when the last call succeeded
 * @param problem why the registry cannot be read, or {@code null} when the state is {@value #OK}
 */
public record RegistryHealth(String state, String problem) {
    /** The state of a registry whose last call succeeded. */
    public static final String OK = "ok";

    /** Checks that a state is given. */
    public RegistryHealth {
        Objects.requireNonNull(state, "state");
    }

    /** Whether the registry's last call succeeded. */
    public boolean ok() {
        return OK.equals(state);
    }
}
