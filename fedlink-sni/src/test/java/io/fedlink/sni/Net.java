package io.fedlink.sni;

import io.fedlink.api.Endpoint;
import io.fedlink.api.TunnelServer;
import io.fedlink.api.TunnelServerConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * Where a test's proxy, clients and targets live: loopback sockets and the {@code nio} transport, or a
 * {@link MemoryNetwork} and its transport. The behaviour suites are written against this, so each case runs on both
 * transports (the in-memory subclasses of the suites pick {@link #memory()}).
 */
abstract class Net implements AutoCloseable {
    final List<AutoCloseable> opened = new ArrayList<>();

    /** Loopback sockets, the nio transport. */
    static Net nio() {
        return new Nio();
    }

    /** A fresh memory network and its transport. */
    static Net memory() {
        return new Memory(new MemoryNetwork());
    }

    /** Starts a proxy configured by {@code b} on this net's transport. */
    abstract TunnelServer start(TunnelServerConfig.Builder b) throws IOException;

    /** A client socket connected to {@code to} from {@code from} ({@code null}: the loopback address), 20 s reads. */
    abstract Socket connect(InetSocketAddress to, InetAddress from) throws IOException;

    /** A server socket on {@code port} of {@code address} (0: a free port). */
    abstract ServerSocket listen(InetAddress address, int port) throws IOException;

    /** A loopback target whose connects never complete (a full backlog that is never accepted). */
    abstract Endpoint unanswered() throws IOException;

    /** A loopback port nothing listens on (until a target takes it). */
    abstract int closedPort() throws IOException;

    /** Whether this is the real network (skips, with a reason, what only real sockets can show). */
    abstract boolean real();

    /** Skips the running case on a memory network, saying why only real sockets can show it. */
    void assumeReal(String why) {
        Assumptions.assumeTrue(real(), "needs real sockets: " + why);
    }

    /** A client socket connected to {@code to} from the loopback address, 20 s reads. */
    Socket connect(InetSocketAddress to) throws IOException {
        return connect(to, null);
    }

    Loopback.Target target(Loopback.Target.Handler handler) throws IOException {
        return target(Loopback.LOOPBACK, 0, handler);
    }

    Loopback.Target target(InetAddress address, int port, Loopback.Target.Handler handler) throws IOException {
        return new Loopback.Target(listen(address, port), handler);
    }

    Loopback.Target echo() throws IOException {
        return echo(0);
    }

    Loopback.Target echo(int port) throws IOException {
        return target(Loopback.LOOPBACK, port, Loopback.Target.ECHO);
    }

    /** {@link Loopback#freshTunnel(InetSocketAddress, String)} on this net. */
    void freshTunnel(InetSocketAddress proxy, String name) throws Exception {
        Loopback.freshTunnel(connect(proxy), name);
    }

    /** Whether something listens on {@code address}. */
    boolean listening(InetSocketAddress address) {
        try (Socket probe = connect(address)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
    }

    private static final class Nio extends Net {
        @Override
        TunnelServer start(TunnelServerConfig.Builder b) throws IOException {
            return b.start();
        }

        @Override
        Socket connect(InetSocketAddress to, InetAddress from) throws IOException {
            Socket s = new Socket();
            try {
                if (from != null) {
                    s.bind(new InetSocketAddress(from, 0));
                }
                s.connect(to, 10_000);
                s.setSoTimeout(20_000);
            } catch (IOException e) {
                s.close();
                throw e;
            }
            return s;
        }

        @Override
        ServerSocket listen(InetAddress address, int port) throws IOException {
            return Loopback.Target.listen(address, port);
        }

        /** A listener with a backlog of 1, filled, never accepting: a further SYN gets no answer on Linux. */
        @Override
        Endpoint unanswered() throws IOException {
            ServerSocketChannel full = ServerSocketChannel.open();
            opened.add(full);
            full.bind(new InetSocketAddress(Loopback.LOOPBACK, 0), 1);
            for (int i = 0; i < 4; i++) {
                Socket f = new Socket();
                opened.add(f);
                try {
                    f.connect(full.getLocalAddress(), 200);
                } catch (IOException e) {
                    break; // the backlog is full
                }
            }
            return Endpoint.of("127.0.0.1", ((InetSocketAddress) full.getLocalAddress()).getPort());
        }

        @Override
        int closedPort() throws IOException {
            return Loopback.closedPort();
        }

        @Override
        boolean real() {
            return true;
        }

        @Override
        public String toString() {
            return "nio";
        }
    }

    private static final class Memory extends Net {
        private final MemoryNetwork network;

        Memory(MemoryNetwork network) {
            this.network = network;
        }

        @Override
        TunnelServer start(TunnelServerConfig.Builder b) throws IOException {
            return network.start(b.build());
        }

        @Override
        Socket connect(InetSocketAddress to, InetAddress from) throws IOException {
            Socket s = network.connect(to, from);
            s.setSoTimeout(20_000);
            return s;
        }

        @Override
        ServerSocket listen(InetAddress address, int port) throws IOException {
            return network.listen(new InetSocketAddress(address, port));
        }

        @Override
        Endpoint unanswered() throws IOException {
            ServerSocket never = network.listen(new InetSocketAddress(Loopback.LOOPBACK, 0), 0);
            opened.add(never);
            return Endpoint.of("127.0.0.1", never.getLocalPort());
        }

        private int nextClosed = 9;

        @Override
        int closedPort() {
            return nextClosed++; // nothing listens on low ports in a memory network unless a test says so
        }

        @Override
        boolean real() {
            return false;
        }

        @Override
        public String toString() {
            return "memory";
        }
    }
}
