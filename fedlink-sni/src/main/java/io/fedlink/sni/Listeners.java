package io.fedlink.sni;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The listening sockets of one proxy: one per event loop, bound to the same address with {@code SO_REUSEPORT}, so the
 * kernel spreads new connections over the loops and each loop accepts in its own thread (no hand-off between
 * threads per connection). Where {@code SO_REUSEPORT} is missing, one socket is shared by every loop's selector.
 *
 * <p>{@code SO_REUSEPORT} would let a second proxy started by mistake on the same port share its connections
 * silently; a plain bind without the option is tried first, so an address in use still fails with a clear error.
 */
final class Listeners {
    static final int BACKLOG = 1024;
    private static final int BIND_ATTEMPTS = 5;

    private Listeners() {
    }

    /**
     * Binds {@code loops} listening sockets (or one shared one) to {@code address}, non-blocking.
     *
     * @return one channel per loop, in loop order (the same channel repeated when shared)
     * @throws IOException naming the address if it cannot be bound
     */
    static List<ServerSocketChannel> bind(InetSocketAddress address, int loops) throws IOException {
        try {
            return bindGroup(address, loops);
        } catch (IOException e) {
            throw new IOException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
    }

    private static List<ServerSocketChannel> bindGroup(InetSocketAddress address, int loops) throws IOException {
        if (loops == 1 || !reusePortSupported()) {
            ServerSocketChannel ch = open(address, false);
            return Collections.nCopies(loops, ch);
        }
        IOException last = null;
        for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
            InetSocketAddress chosen;
            try (ServerSocketChannel probe = open(address, false)) { // fails if anyone listens there already
                chosen = (InetSocketAddress) probe.getLocalAddress();
            }
            List<ServerSocketChannel> group = new ArrayList<>(loops);
            try {
                for (int i = 0; i < loops; i++) {
                    group.add(open(chosen, true));
                }
                return group;
            } catch (BindException e) { // the probe's port was taken between its close and our bind
                closeAll(group);
                last = e;
                if (address.getPort() != 0) {
                    break;
                }
            } catch (IOException | RuntimeException e) {
                closeAll(group);
                throw e;
            }
        }
        throw last;
    }

    private static ServerSocketChannel open(InetSocketAddress address, boolean reusePort) throws IOException {
        // An IPv4 address gets an IPv4 socket: a dual-stack one would hand out IPv6 sockets carrying mapped addresses,
        // each costing an extra system call or two in the JDK for nothing (see Connection.open).
        ServerSocketChannel ch = address.getAddress() instanceof Inet4Address
                ? ServerSocketChannel.open(StandardProtocolFamily.INET) : ServerSocketChannel.open();
        try {
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (reusePort) {
                ch.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            }
            ch.bind(address, BACKLOG);
            ch.configureBlocking(false);
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static boolean reusePortSupported() {
        try (ServerSocketChannel ch = ServerSocketChannel.open()) {
            return ch.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT);
        } catch (IOException e) {
            return false;
        }
    }

    /** Closes each distinct channel once. */
    static void closeAll(List<ServerSocketChannel> channels) {
        for (ServerSocketChannel ch : new java.util.LinkedHashSet<>(channels)) {
            try {
                ch.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
