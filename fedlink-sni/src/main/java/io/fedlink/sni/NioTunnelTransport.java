package io.fedlink.sni;

import io.fedlink.api.TunnelServer;
import io.fedlink.api.TunnelServerConfig;
import io.fedlink.api.TunnelTransport;
import io.fedlink.api.Tunnels;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The embedded SNI proxy, transport name {@code nio}: reads each client's TLS ClientHello, routes by its server
 * name, connects to the target and copies bytes blindly both ways. TLS is never terminated; the client verifies the
 * target's own certificate end to end.
 *
 * <p>Design: {@code eventLoops} selector threads, each accepting on its own listening socket bound to the same
 * address with {@code SO_REUSEPORT}, so the kernel spreads new connections over the loops (where the option is
 * missing, the loops share one socket); a connection never leaves the loop that accepted it. A connection is
 * a small state machine (hello, resolving, connecting, tunnel, closed) owned by one loop, which also checks its
 * deadlines; no thread per connection, no lock on the data path. Copy buffers are direct, pooled per loop, and held
 * only while bytes wait to be written, so idle tunnels hold none and a slow reader stalls its writer (at most one
 * buffer per direction). A FIN is passed on as a half-close after pending bytes are flushed; a reset or error is
 * passed on as a reset. Refusals never connect anywhere: they answer with a TLS alert (unless configured silent) and
 * close.
 */
public final class NioTunnelTransport implements TunnelTransport {
    /** The transport name: the default one. */
    public static final String NAME = Tunnels.DEFAULT_TRANSPORT;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TunnelServer start(TunnelServerConfig config) throws IOException {
        return new LoopServer(config, new Sockets(config));
    }

    /** The NIO binding: one listening socket per event loop ({@link Listeners}), each accepted on by its loop. */
    private static final class Sockets implements LoopServer.Binding {
        private final List<ServerSocketChannel> listeners;
        private final InetSocketAddress address;

        Sockets(TunnelServerConfig config) throws IOException {
            this.listeners = Listeners.bind(config.bindAddress(), config.eventLoops());
            try {
                this.address = (InetSocketAddress) listeners.get(0).getLocalAddress();
            } catch (IOException | RuntimeException e) {
                Listeners.closeAll(listeners);
                throw e;
            }
        }

        @Override
        public InetSocketAddress address() {
            return address;
        }

        @Override
        public Loop loop(ProxyContext ctx, int index, String name, BiConsumer<String, Throwable> died)
                throws IOException {
            EventLoop loop = new EventLoop(ctx, name, died);
            loop.listen(listeners.get(index), address);
            return loop;
        }

        @Override
        public void stopListening() {
            Listeners.closeAll(listeners);
        }

        @Override
        public boolean realSockets() {
            return true;
        }
    }
}
