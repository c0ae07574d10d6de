package io.fedlink.sni;

import io.fedlink.api.TunnelServer;
import io.fedlink.api.TunnelServerConfig;
import io.fedlink.api.TunnelTransport;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * A TCP network inside one JVM, with no sockets: the second {@link TunnelTransport} (name {@value #NAME}) and the
 * peers to test it with. A proxy started here runs the same connection core as the {@code nio} transport (hello,
 * routing, limits, deadlines, PROXY headers, half-close, resets, reloads, the graceful close) with its bytes in
 * memory; its clients and targets are plain {@link Socket}s and {@link ServerSocket}s from {@link #connect} and
 * {@link #listen}, so a test written against sockets runs on either network. No packet leaves the JVM and no name is
 * looked up by the network itself; addresses are only labels (use loopback ones).
 *
 * <pre>{@code
 * MemoryNetwork net = new MemoryNetwork();
 * try (ServerSocket target = net.listen(new InetSocketAddress("127.0.0.1", 6651));
 *      TunnelServer proxy = net.start(SniProxy.builder().bindLoopback(0)
 *              .routes(RouteTable.builder().add("10000.fate.org", Endpoint.of("127.0.0.1", 6651)).build())
 *              .build());
 *      Socket client = net.connect(proxy.localAddress())) {
 *     client.getOutputStream().write(clientHello); // reaches target.accept()'s socket, unchanged
 * }
 * }</pre>
 *
 * <p>TCP as on loopback: a connect to an address nobody listens on is refused at once; a listener's backlog holds
 * connections until {@link ServerSocket#accept()} takes them (a connect beyond it waits, and a proxy's connect times
 * out); each direction queues up to 256 KiB; {@link Socket#shutdownOutput()} is a FIN; a close with unread bytes, or
 * with {@code setSoLinger(true, 0)}, is a reset. Not supported here: party agents and the active health check (both
 * need real sockets; {@link #start} refuses a config that asks for them).
 */
public final class MemoryNetwork implements TunnelTransport {
    /** The transport name. */
    public static final String NAME = "memory";
    private static final int FIRST_LISTEN_PORT = 20000;
    private static final int FIRST_EPHEMERAL_PORT = 32768;
    private static final int LAST_PORT = 60999;

    /** One listening address: a proxy's (taking every connection at once) or a server socket's (with a backlog). */
    abstract static class Listener {
        final InetSocketAddress address;
        private final ArrayDeque<MemoryLink> waiting = new ArrayDeque<>(); // proxy connects beyond the backlog
        boolean closed;

        Listener(InetSocketAddress address) {
            this.address = address;
        }

        /** Under the network's lock: whether the backlog takes one more connection now. */
        abstract boolean room();

        /** Under the network's lock: the server side of a new connection. */
        abstract void arrived(MemoryEnd end);
    }

    /** Makes the listener for the address a bind chose. */
    interface ListenerFactory {
        Listener make(InetSocketAddress bound) throws IOException;
    }

    private final Map<InetSocketAddress, Listener> listeners = new HashMap<>();
    private int nextListenPort = FIRST_LISTEN_PORT;
    /** {@link #connect} calls waiting for room in a full backlog (under the lock). */
    private int blockedConnects;
    private int nextEphemeralPort = FIRST_EPHEMERAL_PORT;

    /** An empty network. */
    public MemoryNetwork() {
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Starts a proxy in this network, bound to {@code config}'s address (port 0: a free one). The config's
     * {@code transport} name is not consulted.
     *
     * @throws IOException              if the address is taken in this network
     * @throws IllegalArgumentException if the config asks for party agents or an active health check
     */
    @Override
    public TunnelServer start(TunnelServerConfig config) throws IOException {
        Objects.requireNonNull(config, "config");
        if (config.agents() != null) {
            throw new IllegalArgumentException("the memory transport accepts no party agents (they need real"
                    + " sockets); start the proxy on the nio transport, or drop agents(...)");
        }
        if (!config.healthCheckInterval().isZero()) {
            throw new IllegalArgumentException("the memory transport runs no active health check (healthCheckInterval "
                    + config.healthCheckInterval() + "); set it to zero: targets are still ejected after failed"
                    + " connects");
        }
        return new LoopServer(config, new Binding(config));
    }

    /**
     * A server socket on {@code address} (port 0: a free one) with a backlog of 50.
     *
     * @throws BindException if something in this network listens there already
     */
    public ServerSocket listen(InetSocketAddress address) throws IOException {
        return listen(address, 50);
    }

    /**
     * A server socket on {@code address} (port 0: a free one) holding up to {@code backlog} connections that
     * {@link ServerSocket#accept()} has not taken yet; with {@code 0}, a connect completes only when accept takes it,
     * so a listener that never accepts is a target whose connects time out.
     *
     * @throws BindException if something in this network listens there already
     */
    public ServerSocket listen(InetSocketAddress address, int backlog) throws IOException {
        if (backlog < 0) {
            throw new IllegalArgumentException("backlog must be at least 0, was " + backlog);
        }
        MemoryServerSocket[] made = new MemoryServerSocket[1];
        bind(address, a -> (made[0] = new MemoryServerSocket(this, a, backlog)).listener());
        return made[0];
    }

    /** Connects from the loopback address of {@code to}'s family; waits up to 10 s for room in a full backlog. */
    public Socket connect(InetSocketAddress to) throws IOException {
        return connect(to, null);
    }

    /**
     * Connects from {@code from} ({@code null}: the loopback address of {@code to}'s family), on a port of this
     * network's choosing; waits up to 10 s for room in a full backlog.
     *
     * @throws ConnectException       if nothing listens on {@code to}
     * @throws SocketTimeoutException if the backlog stayed full
     */
    public Socket connect(InetSocketAddress to, InetAddress from) throws IOException {
        Objects.requireNonNull(to, "to");
        long end = System.nanoTime() + 10_000_000_000L;
        synchronized (this) {
            while (true) {
                Listener l = listener(to);
                if (l.room()) {
                    MemoryEnd[] ends = MemoryEnd.pair(ephemeral(from, to), l.address);
                    l.arrived(ends[1]);
                    return new MemorySocket(ends[0]);
                }
                long left = (end - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    throw new SocketTimeoutException("connect timed out: the backlog of " + to + " stayed full");
                }
                blockedConnects++;
                try {
                    wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while connecting to " + to);
                } finally {
                    blockedConnects--;
                }
            }
        }
    }

    /** The proxy's connect from {@code from} to {@code to}: connected at once, pending while the backlog is full. */
    synchronized MemoryLink dial(MemoryLoop loop, InetAddress from, InetSocketAddress to) throws IOException {
        Listener l = listener(to);
        MemoryEnd[] ends = MemoryEnd.pair(ephemeral(from, to), l.address);
        MemoryLink link = new MemoryLink(loop, ends[0]);
        if (l.room()) {
            l.arrived(ends[1]);
            return link;
        }
        pendingEnds.put(link, ends[1]);
        l.waiting.add(link);
        return link.pending();
    }

    private final Map<MemoryLink, MemoryEnd> pendingEnds = new HashMap<>();

    /** A pending connect given up (closed by the proxy). */
    synchronized void cancel(MemoryLink link) {
        MemoryEnd end = pendingEnds.remove(link);
        if (end != null) {
            for (Listener l : listeners.values()) {
                l.waiting.remove(link);
            }
        }
    }

    /**
     * Under the lock, when an accept may have made room in {@code l}'s backlog: pending connects move in, in order,
     * and blocked {@link #connect} calls are woken (only when there are any: an accept that woke every other waiting
     * accept would have them wake each other without end).
     */
    void admitWaiting(Listener l) {
        if (blockedConnects > 0) {
            notifyAll();
        }
        while (!l.waiting.isEmpty() && l.room()) {
            MemoryLink link = l.waiting.poll();
            l.arrived(pendingEnds.remove(link));
            link.connected(true);
        }
    }

    /** Binds {@code address} (port 0: a free one) to what {@code make} builds for the bound address. */
    synchronized void bind(InetSocketAddress address, ListenerFactory make) throws IOException {
        Objects.requireNonNull(address, "address");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("a memory network binds addresses, not names: " + address);
        }
        InetSocketAddress bound = address;
        if (address.getPort() == 0) {
            int tries = 0;
            do {
                if (++tries > LAST_PORT - FIRST_LISTEN_PORT) {
                    throw new BindException("no free port left in this memory network for " + address.getAddress());
                }
                bound = new InetSocketAddress(address.getAddress(), nextListenPort);
                nextListenPort = nextListenPort == FIRST_EPHEMERAL_PORT - 1 ? FIRST_LISTEN_PORT : nextListenPort + 1;
            } while (taken(bound));
        } else if (taken(bound)) {
            throw new BindException("Address already in use: " + bound + " (in this memory network)");
        }
        listeners.put(bound, make.make(bound));
    }

    private boolean taken(InetSocketAddress a) {
        if (listeners.containsKey(a)) {
            return true;
        }
        for (InetSocketAddress other : listeners.keySet()) {
            if (other.getPort() == a.getPort()
                    && (other.getAddress().isAnyLocalAddress() || a.getAddress().isAnyLocalAddress())) {
                return true;
            }
        }
        return false;
    }

    /** Stops listening on {@code l}'s address: connects waiting for its backlog fail. */
    synchronized void unbind(Listener l) {
        if (l.closed) {
            return;
        }
        l.closed = true;
        listeners.remove(l.address, l);
        for (MemoryLink link; (link = l.waiting.poll()) != null; ) {
            pendingEnds.remove(link);
            link.connected(false);
        }
        notifyAll();
    }

    /** Under the lock: who listens on {@code to} (its exact address, else the wildcard of its port). */
    private Listener listener(InetSocketAddress to) throws ConnectException {
        if (to.isUnresolved()) {
            throw new ConnectException("a memory network connects to addresses, not names: " + to);
        }
        Listener l = listeners.get(to);
        if (l == null) {
            InetAddress any = to.getAddress() instanceof Inet6Address ? anyV6() : anyV4();
            l = listeners.get(new InetSocketAddress(any, to.getPort()));
        }
        if (l == null) {
            throw new ConnectException("Connection refused: nothing listens on " + to + " in this memory network");
        }
        return l;
    }

    /** Under the lock: a local address for a new connection from {@code from} to {@code to}. */
    private InetSocketAddress ephemeral(InetAddress from, InetSocketAddress to) {
        InetAddress host = from;
        if (host == null || host.isAnyLocalAddress()) {
            host = to.getAddress() instanceof Inet4Address ? InetAddress.getLoopbackAddress() : loopbackV6();
        }
        int port = nextEphemeralPort;
        nextEphemeralPort = port == LAST_PORT ? FIRST_EPHEMERAL_PORT : port + 1;
        return new InetSocketAddress(host, port);
    }

    private static InetAddress anyV4() {
        return literal(new byte[4]);
    }

    private static InetAddress anyV6() {
        return literal(new byte[16]);
    }

    private static InetAddress loopbackV6() {
        byte[] b = new byte[16];
        b[15] = 1;
        return literal(b);
    }

    private static InetAddress literal(byte[] b) {
        try {
            return InetAddress.getByAddress(b);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A proxy's listener: every connection is taken at once by a loop, round robin. */
    private final class Binding implements LoopServer.Binding {
        private final MemoryLoop[] loops;
        private Listener listener;
        private int next;

        Binding(TunnelServerConfig config) throws IOException {
            this.loops = new MemoryLoop[config.eventLoops()];
            bind(config.bindAddress(), a -> listener = new Listener(a) {
                @Override
                boolean room() {
                    return true;
                }

                @Override
                void arrived(MemoryEnd end) {
                    MemoryLoop loop = loops[next];
                    next = (next + 1) % loops.length;
                    if (loop == null) { // still starting (only a guessed port gets here): as if not yet listening
                        end.close(true);
                    } else {
                        loop.accepted(end);
                    }
                }
            });
        }

        @Override
        public InetSocketAddress address() {
            return listener.address;
        }

        @Override
        public Loop loop(ProxyContext ctx, int index, String name, BiConsumer<String, Throwable> died) {
            loops[index] = new MemoryLoop(ctx, name, died, MemoryNetwork.this, listener.address);
            return loops[index];
        }

        @Override
        public void stopListening() {
            unbind(listener);
        }

        @Override
        public boolean realSockets() {
            return false;
        }
    }

    @Override
    public synchronized String toString() {
        return "MemoryNetwork[" + listeners.size() + " listening]";
    }

    /** For {@link MemoryServerSocket}: the network's lock, to wait on for accept. */
    Object lock() {
        return this;
    }
}
