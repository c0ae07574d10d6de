package io.fedlink.sni;

import io.fedlink.api.CloseReason;
import io.fedlink.api.Endpoint;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.ProxyProtocol;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.RouteTable;
import io.fedlink.api.Tunnel;
import io.fedlink.api.TunnelServerConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.time.Instant;

/**
 * One client connection and, once routed, its target connection: the state machine
 * {@code HELLO -> RESOLVING -> CONNECTING -> TUNNEL -> CLOSED}; the bytes of a tunnel move in its {@link CopyLoop}.
 * A route with several targets may go through {@code RESOLVING}/{@code CONNECTING} once per target, each attempt
 * but the last with half of what is left of the connect deadline; the ClientHello is sent only once connected, so
 * trying another target is invisible to the client.
 * Runs only on its {@link Loop} (whatever transport carries its bytes: it sees its sockets only as {@link Link}s)
 * and sees the server only through the {@link ProxyContext}; the {@link Tunnel}
 * getters may be called from any thread.
 */
final class Connection implements Tunnel {
    enum State { HELLO, RESOLVING, CONNECTING, TUNNEL, CLOSED }

    private final Loop loop;
    private final ProxyContext ctx;
    private final TunnelServerConfig config;
    private final long id;
    private final Link client;
    private final InetSocketAddress peer;               // the socket's peer: what admission counted
    private volatile InetSocketAddress clientAddress;   // the client: the peer, or what a trusted PROXY header says
    private final Instant openedAt = Instant.now();
    private final long openedNanos;
    private Link target;
    private volatile State state = State.HELLO;
    private long deadline;
    private long lastActivity;
    private boolean starving;     // stopped reading: the buffer budget was spent
    private boolean holdsSlot;    // holds one of the maxTunnels slots
    private boolean countedForClient; // counted in the per-client limits (released at the end)
    private InetAddress announcedHandshake; // the PROXY-announced client counted in the hello phase, until it ends
    private Runnable cancelLookup; // withdraws from the resolver while RESOLVING
    private AgentHub.Claim claim;  // while CONNECTING to a party's agent: the pending hand-over

    private Front front;                   // the PROXY header and hello phase, until the tunnel
    private ByteBuffer hello;
    private volatile String serverName;
    private volatile Endpoint targetEndpoint;
    private volatile PartyRoute route;
    private RouteTable routedBy;               // the table the route came from, or a later one that still serves it
    private volatile int helloBytes = -1;
    private long connectStartNanos;
    private volatile long connectNanos = -1;
    private Attempts attempts;                 // the connect phase: targets tried, the current one, deadlines

    private CopyLoop copy;
    private volatile CloseReason closeReason;
    private volatile long bytesUp;
    private volatile long bytesDown;

    Connection(Loop loop, Link client, InetSocketAddress remote, long acceptedNanos) {
        this.loop = loop;
        this.ctx = loop.ctx;
        this.config = ctx.config;
        this.id = ctx.nextId();
        this.client = client.attach(this);
        this.openedNanos = acceptedNanos;
        this.peer = remote;
        this.clientAddress = remote;
    }

    // ---- lifecycle -------------------------------------------------------------------------------------------------

    void start() {
        try {
            client.watch(SelectionKey.OP_READ);
        } catch (IOException e) {
            refuse(RefusalReason.CLIENT_CLOSED_EARLY, "could not register: " + e.getMessage());
            return;
        }
        boolean proxyHeader = trustedForProxyHeader();
        front = new Front(config.maxHelloBytes(), proxyHeader);
        if (proxyHeader) {
            deadline = openedNanos + proxyHeaderTimeout().toNanos();
        } else {
            deadline = openedNanos + config.helloTimeout().toNanos();
            admitClient();
        }
    }

    /** Applies the per-client limits once the client address is known; {@code false} when refused. */
    private boolean admitClient() {
        if (!ctx.clientLimits.enabled()) {
            return true;
        }
        RefusalReason over = ctx.clientLimits.admit(clientAddress.getAddress(), System.nanoTime());
        if (over != null) {
            refuse(over, over == RefusalReason.CLIENT_RATE_LIMIT ? "client over its new-connection rate"
                    : "client at its limit of " + config.maxConnectionsPerClient() + " connections");
            return false;
        }
        countedForClient = true;
        return true;
    }

    private void releaseClient() {
        leaveAnnouncedHandshake();
        if (countedForClient) {
            countedForClient = false;
            ctx.clientLimits.release(clientAddress.getAddress(), System.nanoTime());
        }
    }

    /** The PROXY header's own deadline, inside the hello deadline. */
    private Duration proxyHeaderTimeout() {
        Duration own = config.proxyHeaderTimeout();
        return own.compareTo(config.helloTimeout()) < 0 ? own : config.helloTimeout();
    }

    private boolean trustedForProxyHeader() {
        return ctx.trustsProxyHeader(peer.getAddress());
    }

    /** Leaves the hello phase as the client a PROXY header announced (the peer's own count is left apart). */
    private void leaveAnnouncedHandshake() {
        if (announcedHandshake != null) {
            ctx.leftHandshakeOf(announcedHandshake);
            announcedHandshake = null;
        }
    }

    /** Readiness {@code ready} ({@link SelectionKey} bits) of {@code link}, the client's socket or the target's. */
    void onReady(Link link, int ready) {
        if (state == State.CLOSED) {
            return;
        }
        switch (state) {
            case HELLO -> readHello();
            case RESOLVING, CONNECTING -> {
                if (link == client) {
                    // The client's interest stays on while its target is found (a client sends nothing more until
                    // it hears from the server, so this is rare): switched off only when it fires, which saves two
                    // epoll_ctl calls per connection. Its bytes wait in the socket until the tunnel starts.
                    client.interest(0);
                } else {
                    finishConnect();
                }
            }
            case TUNNEL -> {
                copy.ready(link == client, (ready & SelectionKey.OP_WRITE) != 0, (ready & SelectionKey.OP_READ) != 0);
                if (state == State.TUNNEL) {
                    updateInterest();
                }
            }
            default -> { }
        }
    }

    boolean expired(long now) {
        return switch (state) {
            case HELLO, RESOLVING, CONNECTING -> now - deadline >= 0;
            case TUNNEL -> !config.idleTimeout().isZero() && now - lastActivity - config.idleTimeout().toNanos() >= 0;
            default -> false;
        };
    }

    void onDeadline(long now) {
        switch (state) {
            case HELLO -> {
                if (front.awaitingProxyHeader()) {
                    refuse(RefusalReason.PROXY_HEADER_TIMEOUT, "no complete PROXY header within "
                            + proxyHeaderTimeout());
                } else {
                    refuse(RefusalReason.HELLO_TIMEOUT, "no complete ClientHello within " + config.helloTimeout());
                }
            }
            case RESOLVING -> attemptFailed(RefusalReason.CONNECT_TIMEOUT, "lookup of " + targetEndpoint.host()
                    + " took longer than " + attempts.share(config.connectTimeout()));
            case CONNECTING -> {
                if (claim != null) {
                    refuse(RefusalReason.AGENT_UNAVAILABLE, "no data connection from the agent of party "
                            + route.agentParty() + " within " + config.connectTimeout());
                } else {
                    attemptFailed(RefusalReason.CONNECT_TIMEOUT, "connect to " + targetEndpoint + " timed out");
                }
            }
            case TUNNEL -> {
                ctx.counters.timeouts.increment();
                closeTunnel(CloseReason.IDLE_TIMEOUT, true);
            }
            default -> { }
        }
    }

    /** Server shutdown: refuse pending connections, abort tunnels. */
    void shutdownNow() {
        if (state == State.TUNNEL) {
            closeTunnel(CloseReason.SERVER_SHUTDOWN, true);
        } else if (state != State.CLOSED) {
            refuse(RefusalReason.SHUTTING_DOWN, "server shutting down");
        }
    }

    void refuseIfPending() {
        if (state == State.HELLO || state == State.RESOLVING || state == State.CONNECTING) {
            refuse(RefusalReason.SHUTTING_DOWN, "server shutting down");
        }
    }

    /** An unexpected exception or error escaped a handler. */
    void fail() {
        if (state == State.TUNNEL) {
            closeTunnel(CloseReason.INTERNAL_ERROR, true);
        } else if (state != State.CLOSED) {
            refuse(RefusalReason.INTERNAL_ERROR, "internal error");
        }
    }

    /** No buffer was left in the budget: stop reading until the loop offers one again. */
    private void starve() {
        if (!starving) {
            starving = true;
            loop.starved(this);
        }
    }

    /** Called by the loop at each tick while starving: read again (and starve again if still no buffer). */
    void bufferMayBeFree() {
        if (!starving || state == State.CLOSED) {
            return;
        }
        starving = false;
        if (state == State.HELLO) {
            client.interest(SelectionKey.OP_READ);
        } else if (state == State.TUNNEL) {
            copy.fed();
            updateInterest();
        }
    }

    // ---- HELLO -----------------------------------------------------------------------------------------------------

    private void readHello() {
        if (hello == null) {
            hello = loop.buffers.borrow();
            if (hello == null) {
                client.interest(0);
                starve();
                return;
            }
            hello.limit(front.limit(hello.capacity()));
        }
        int n;
        try {
            n = client.read(hello);
        } catch (IOException e) {
            refuse(RefusalReason.CLIENT_CLOSED_EARLY, "read failed: " + e.getMessage());
            return;
        }
        if (n < 0) {
            refuse(RefusalReason.CLIENT_CLOSED_EARLY, "client closed before its ClientHello was complete");
            return;
        }
        Front.Step step = front.feed(hello);
        if (step == Front.Step.PROXY_HEADER) {
            if (!proxyHeaderDone()) {
                return;
            }
            step = hello.position() > 0 ? front.feed(hello) : Front.Step.NEED_MORE;
        }
        switch (step) {
            case GROW -> { // a hello larger than one copy buffer (allowed up to the cap): a buffer of the cap's size
                ByteBuffer bigger = ByteBuffer.allocate(config.maxHelloBytes());
                hello.flip();
                bigger.put(hello);
                loop.buffers.release(hello);
                hello = bigger;
            }
            case REFUSED -> refuse(front.reason(), front.detail());
            case HELLO -> routed();
            default -> { }
        }
    }

    /** The hello is complete: its route, then a tunnel slot and the first attempt (or the party's agent). */
    private void routed() {
        serverName = front.serverName();
        helloBytes = front.helloBytes();
        RouteTable table = ctx.routes();
        routedBy = table;
        Routing.Decision d = Routing.decide(table, serverName, clientAddress.getAddress());
        route = d.route();
        if (d.refused()) {
            refuse(d.refusal(), d.detail());
            return;
        }
        if (route.viaAgent()) {
            viaAgent();
            return;
        }
        if (!ctx.reserveTunnel()) {
            refuse(RefusalReason.TUNNEL_LIMIT, config.maxTunnels() + " tunnels connecting or open");
            return;
        }
        holdsSlot = true;
        connectStartNanos = System.nanoTime();
        attempts = new Attempts(ctx.health.of(table, route, serverName == null), serverName,
                connectStartNanos + config.connectTimeout().toNanos()); // lookups and connects together
        nextTarget();
    }

    /** Starts the next attempt {@link Attempts} picks; refuses with the last attempt's reason when none is left. */
    private void nextTarget() {
        Attempts.Attempt a = attempts.next(System.nanoTime());
        if (a == null) {
            refuse(attempts.reason(), attempts.detail());
            return;
        }
        targetEndpoint = a.target();
        deadline = a.deadline();
        int generation = a.generation();
        InetSocketAddress address = a.target().toSocketAddress();
        if (address.isUnresolved()) {
            state = State.RESOLVING;
            cancelLookup = ctx.resolve(a.target(), loop, resolved -> {
                if (attempts.current(generation)) {
                    connect(resolved);
                }
            }, (reason, detail) -> {
                if (attempts.current(generation)) {
                    resolveFailed(reason, detail);
                }
            });
        } else {
            connect(address);
        }
    }

    /**
     * The current attempt failed: counts it against the target's health (a connect that failed or timed out, not a
     * busy resolver), and tries the next target.
     */
    private void attemptFailed(RefusalReason reason, String detail) {
        if (state == State.RESOLVING && cancelLookup != null) {
            cancelLookup.run();
        }
        cancelLookup = null;
        closeTarget(true, false);
        attempts.failed(reason, detail, System.nanoTime());
        nextTarget();
    }

    /**
     * The trusted source's PROXY header is complete: its client (if it announced one) is the client from now on,
     * admitted under the per-client limits, with the hello deadline. {@code false} when refused.
     */
    private boolean proxyHeaderDone() {
        if (front.announced() != null) {
            clientAddress = front.announced();
        }
        deadline = openedNanos + config.helloTimeout().toNanos();
        if (!ctx.enterHandshake(clientAddress.getAddress())) {
            refuse(RefusalReason.CLIENT_HANDSHAKE_LIMIT, "client at its limit of " + config.maxHandshakesPerClient()
                    + " connections in the hello phase");
            return false;
        }
        announcedHandshake = clientAddress.getAddress();
        return admitClient();
    }

    private void resolveFailed(RefusalReason reason, String detail) {
        if (state == State.RESOLVING) {
            cancelLookup = null; // answered: nothing to withdraw
            attemptFailed(reason, detail);
        }
    }

    // ---- through a party's agent ------------------------------------------------------------------------------------

    /**
     * The route is served by a party's agent: takes a tunnel slot and one of the agent's idle data connections, or
     * waits (CONNECTING, within the connect deadline) for the next one; refuses at once when no agent of the party
     * is connected.
     */
    private void viaAgent() {
        if (!ctx.reserveTunnel()) {
            refuse(RefusalReason.TUNNEL_LIMIT, config.maxTunnels() + " tunnels connecting or open");
            return;
        }
        holdsSlot = true;
        connectStartNanos = System.nanoTime();
        deadline = connectStartNanos + config.connectTimeout().toNanos();
        String party = route.agentParty();
        AgentHub.Claim c = ctx.agents == null ? null : ctx.agents.claim(party, loop, this, this::agentOffered);
        if (c == null) {
            refuse(RefusalReason.AGENT_UNAVAILABLE, ctx.agents == null ? "this proxy accepts no agents (route to the"
                    + " agent of party " + party + ")" : "no agent of party " + party + " is connected");
        } else if (c.ready() != null) {
            agentConnected(c.ready());
        } else {
            claim = c;
            state = State.CONNECTING;
        }
    }

    /** On the loop: the agent hub answers a waiting claim with a data connection, or {@code null} (agent gone). */
    private void agentOffered(Link data) {
        if (state != State.CONNECTING || claim == null) {
            if (data != null) {
                data.close(true, false); // gave up meanwhile
            }
            return;
        }
        claim = null;
        if (data == null) {
            refuse(RefusalReason.AGENT_UNAVAILABLE, "the last agent of party " + route.agentParty() + " left");
        } else {
            agentConnected(data);
        }
    }

    private void agentConnected(Link data) {
        target = data;
        InetSocketAddress agent = target.remoteAddress();
        try {
            if (agent.getPort() == 0) {
                throw new IOException("closed");
            }
            targetEndpoint = Endpoint.of(agent.getAddress().getHostAddress(), agent.getPort());
            target.watch(0);
        } catch (IOException | RuntimeException e) {
            refuse(RefusalReason.AGENT_UNAVAILABLE, "the data connection of party " + route.agentParty()
                    + "'s agent failed: " + e.getMessage());
            return;
        }
        connected();
    }

    // ---- CONNECTING ------------------------------------------------------------------------------------------------

    private void connect(InetSocketAddress address) {
        if (state == State.CLOSED || state == State.TUNNEL) {
            return; // closed meanwhile
        }
        state = State.CONNECTING;
        cancelLookup = null;
        try {
            target = loop.dial(address, this);
        } catch (IOException | RuntimeException e) {
            attemptFailed(RefusalReason.CONNECT_FAILED, "connect to " + targetEndpoint + " failed: " + e.getMessage());
            return;
        }
        if (target.connected()) {
            connected();
        }
    }

    private void finishConnect() {
        try {
            if (target.finishConnect()) {
                connected();
            }
        } catch (IOException e) {
            attemptFailed(RefusalReason.CONNECT_FAILED, "connect to " + targetEndpoint + " failed: " + e.getMessage());
        }
    }

    private void connected() {
        if (!stillRouted()) { // the routes were swapped while connecting and no longer serve this connection
            refuse(RefusalReason.UNKNOWN_SERVER_NAME, "the route was removed or changed while connecting");
            return;
        }
        state = State.TUNNEL;
        lastActivity = System.nanoTime();
        connectNanos = lastActivity - connectStartNanos;
        if (attempts != null) {
            attempts.succeeded();
        }
        ctx.leftHandshake(peer);
        leaveAnnouncedHandshake();
        ctx.counters.routed.increment();
        ctx.counters.liveTunnels.incrementAndGet();
        ctx.events.opened(this);
        // What was read during HELLO goes first, unchanged, after an optional PROXY protocol header.
        hello.flip();
        bytesUp = hello.remaining();
        ctx.counters.bytesFromClients.add(hello.remaining());
        ByteBuffer first = hello;
        if (route.proxyProtocol() != ProxyProtocol.NONE) { // the local address is looked up for the header only
            byte[] header = ProxyProtocolHeader.encode(route.proxyProtocol(), clientAddress, client.localAddress());
            first = ByteBuffer.allocate(header.length + hello.remaining());
            first.put(header).put(hello).flip();
            loop.buffers.release(hello);
        }
        hello = null;
        front = null;
        copy = new CopyLoop(client, target, loop.buffers, new Copying());
        copy.start(first);
        if (state == State.TUNNEL) {
            updateInterest();
        }
    }

    /** What the copy loop reports. */
    private final class Copying implements CopyLoop.Owner {
        @Override
        public void moved(boolean fromClient, int n) {
            if (fromClient) {
                bytesUp += n;
                ctx.counters.bytesFromClients.add(n);
            } else {
                bytesDown += n;
                ctx.counters.bytesToClients.add(n);
            }
        }

        @Override
        public void active() {
            lastActivity = System.nanoTime();
        }

        @Override
        public void starved() {
            starve();
        }

        @Override
        public void finished(CloseReason reason, boolean abortive) {
            closeTunnel(reason, abortive);
        }
    }

    // ---- TUNNEL ----------------------------------------------------------------------------------------------------

    private void updateInterest() {
        client.interest(copy.clientOps());
        target.interest(copy.targetOps());
    }

    private void closeTarget(boolean abortive, boolean silent) {
        if (target != null) {
            target.close(abortive, silent);
            target = null;
        }
    }

    // ---- endings ---------------------------------------------------------------------------------------------------

    /**
     * After a route swap, on the loop: closes this tunnel abortively (reason {@link CloseReason#ROUTE_REMOVED}) when
     * the routes in force no longer serve it; returns whether it did.
     */
    boolean closeIfUnrouted() {
        if (state != State.TUNNEL || stillRouted()) {
            return false;
        }
        closeTunnel(CloseReason.ROUTE_REMOVED, true);
        return true;
    }

    /**
     * Whether the routes in force would still send this connection where it goes: its name resolves to a route that
     * admits the client and lists its target. Always {@code true} when the server keeps unrouted tunnels.
     */
    private boolean stillRouted() {
        RouteTable now = ctx.routes();
        if (now == routedBy || !config.closeUnroutedTunnels()) {
            return true;
        }
        if (Routing.serves(now, serverName, clientAddress.getAddress(), route, targetEndpoint)) {
            routedBy = now; // checked once per table
            return true;
        }
        return false;
    }

    /** Refuses a connection that never became a tunnel: optional alert, then close. Never connects anywhere. */
    private void refuse(RefusalReason reason, String detail) {
        if (state == State.CLOSED) {
            return;
        }
        State was = state;
        state = State.CLOSED;
        ctx.leftHandshake(peer);
        if (holdsSlot) {
            ctx.releaseTunnel();
        }
        releaseClient();
        releaseAttempt();
        if (was == State.RESOLVING && cancelLookup != null) {
            cancelLookup.run();
        }
        if (claim != null) {
            ctx.agents.cancel(route.agentParty(), claim);
            claim = null;
        }
        ctx.counters.refused(reason);
        int alert = TlsAlerts.forRefusal(reason);
        if (alert >= 0 && config.refusalAlerts()) {
            try {
                client.write(ByteBuffer.wrap(TlsAlerts.record(alert)));
            } catch (IOException e) {
                // best effort
            }
        }
        releaseBuffers();
        closeTarget(true, false);
        client.close(false, false);
        loop.forget(this);
        ctx.events.refused(clientAddress, serverName, reason, detail);
    }

    private void closeTunnel(CloseReason reason, boolean abortive) {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        closeReason = reason;
        // The slots first, then the live count: whoever sees the tunnel gone may reconnect at once and must find its
        // per-client and global slots free (a reconnect was refused at random on a loaded machine the other way round).
        ctx.releaseTunnel();
        releaseClient();
        releaseAttempt();
        ctx.counters.closed(reason);
        ctx.counters.liveTunnels.decrementAndGet();
        releaseBuffers();
        boolean silent = reason == CloseReason.COMPLETED; // both FINs passed on: closing sends nothing
        client.close(abortive, silent);
        closeTarget(abortive, silent);
        loop.forget(this);
        ctx.events.closed(this, Duration.ofNanos(System.nanoTime() - openedNanos).toMillis());
    }

    private void releaseAttempt() {
        if (attempts != null) {
            attempts.release();
        }
    }

    private void releaseBuffers() {
        if (hello != null) {
            loop.buffers.release(hello);
            hello = null;
        }
        if (copy != null) {
            copy.release();
        }
    }

    // ---- Tunnel ----------------------------------------------------------------------------------------------------

    @Override
    public long id() {
        return id;
    }

    @Override
    public InetSocketAddress clientAddress() {
        return clientAddress;
    }

    @Override
    public String serverName() {
        return serverName;
    }

    @Override
    public Endpoint target() {
        return targetEndpoint;
    }

    @Override
    public Instant openedAt() {
        return openedAt;
    }

    @Override
    public PartyRoute route() {
        return route;
    }

    @Override
    public long connectNanos() {
        return connectNanos;
    }

    @Override
    public int helloBytes() {
        return helloBytes;
    }

    @Override
    public long bytesFromClient() {
        return bytesUp;
    }

    @Override
    public long bytesToClient() {
        return bytesDown;
    }

    @Override
    public boolean isOpen() {
        return state != State.CLOSED;
    }

    @Override
    public CloseReason closeReason() {
        return closeReason;
    }

    @Override
    public void close() {
        loop.execute(() -> {
            if (state == State.TUNNEL) {
                closeTunnel(CloseReason.CLOSED_BY_APPLICATION, true);
            }
        });
    }

    /**
     * On the loop: closes the tunnel in order (FIN both ways, reason {@link CloseReason#ROTATED}) so that its client
     * reconnects; then tells {@code done} whether it was still open.
     */
    void closeForReconnect(java.util.function.Consumer<Boolean> done) {
        loop.execute(() -> {
            boolean open = state == State.TUNNEL;
            if (open) {
                closeTunnel(CloseReason.ROTATED, false);
            }
            done.accept(open);
        });
    }

    @Override
    public String toString() {
        return "Tunnel#" + id + "[" + clientAddress + " sni=" + serverName + " -> " + targetEndpoint + ", " + state
                + "]";
    }
}
