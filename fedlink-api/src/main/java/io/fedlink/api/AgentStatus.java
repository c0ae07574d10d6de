package io.fedlink.api;

import java.net.InetSocketAddress;
import java.time.Instant;

/**
 * One connected party agent, as a tunnel server sees it (see {@link AgentListenerConfig}).
 *
 * @param party       the party, as its certificate names it
 * @param remote      where the agent's control connection comes from
 * @param connectedAt when the control connection was accepted
 * @param pooled      idle data connections ready to be handed a tunnel now
 * @param tunnels     tunnels handed to this agent since it connected
 */
public record AgentStatus(String party, InetSocketAddress remote, Instant connectedAt, int pooled, long tunnels) {}
