package io.fedlink.sni;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * A {@link Link} over a non-blocking {@link SocketChannel} registered with its connection's {@link EventLoop}: the
 * selection key's attachment, so the loop hands readiness straight to {@link #owner}. Closing goes through the
 * loop, which closes the channel only after its next select has taken the key out (see {@link EventLoop#close}).
 */
final class NioLink implements Link {
    Connection owner;
    private final EventLoop loop;
    private final SocketChannel ch;
    private SelectionKey key;
    private boolean configured;

    NioLink(EventLoop loop, SocketChannel ch) {
        this.loop = loop;
        this.ch = ch;
    }

    @Override
    public NioLink attach(Connection owner) {
        this.owner = owner;
        return this;
    }

    /** Non-blocking, no Nagle delay: how a proxy's sockets must be (done once, before any I/O). */
    NioLink configure() throws IOException {
        ch.configureBlocking(false);
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        configured = true;
        return this;
    }

    /** Starts a connect to {@code address}; {@code true} when it completed at once. */
    boolean connect(InetSocketAddress address) throws IOException {
        return ch.connect(address);
    }

    @Override
    public void watch(int ops) throws IOException {
        if (!configured && ch.isBlocking()) { // an accepted client (an agent's data connection is set up already)
            configure();
        }
        key = loop.register(ch, ops, this);
    }

    @Override
    public void interest(int ops) {
        if (key.interestOps() != ops) {
            key.interestOps(ops);
        }
    }

    @Override
    public boolean connected() {
        return ch.isConnected();
    }

    @Override
    public boolean finishConnect() throws IOException {
        return ch.finishConnect();
    }

    @Override
    public int read(ByteBuffer b) throws IOException {
        return ch.read(b);
    }

    @Override
    public int write(ByteBuffer b) throws IOException {
        return ch.write(b);
    }

    @Override
    public void shutdownOutput() throws IOException {
        ch.shutdownOutput();
    }

    @Override
    public InetSocketAddress localAddress() {
        try {
            return (InetSocketAddress) ch.getLocalAddress();
        } catch (IOException e) {
            return new InetSocketAddress(0);
        }
    }

    @Override
    public InetSocketAddress remoteAddress() {
        try {
            return (InetSocketAddress) ch.getRemoteAddress();
        } catch (IOException e) {
            return new InetSocketAddress(0);
        }
    }

    @Override
    public void close(boolean abortive, boolean silent) {
        loop.close(ch, abortive, silent);
    }
}
