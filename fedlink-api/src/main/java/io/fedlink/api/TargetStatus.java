package io.fedlink.api;

/**
 * The health of one configured target of one route, as a {@link TunnelServer} sees it now (see
 * {@link TunnelServer#targets()}). Labels are bounded by the configuration: {@code route} is the entry's pattern
 * ({@code none} for the route of hellos without a server name) and {@code target} the target as written (a
 * {@code $1} template stays a template), never a name a client sent.
 *
 * @param route               the route entry's pattern, or {@code none}
 * @param target              the target as written, {@code host:port}
 * @param up                  {@code false} while the target is ejected after failing connects (or checks)
 * @param consecutiveFailures failed connects (or checks) since its last success
 * @param connectFailures     failed connects (or checks) since it was configured
 * @param connections         connections connecting to it or tunnelling to it now
 */
public record TargetStatus(String route, String target, boolean up, int consecutiveFailures, long connectFailures,
                           int connections) {}
