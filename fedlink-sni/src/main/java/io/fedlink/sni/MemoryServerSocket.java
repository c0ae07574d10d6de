package io.fedlink.sni;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.ArrayDeque;

/**
 * A {@link ServerSocket} in a {@link MemoryNetwork}, made by {@link MemoryNetwork#listen}: bound from the start,
 * holding up to its backlog of connections until {@link #accept()} takes them. It never opens a descriptor; the
 * methods a listening socket needs are overridden, socket options are accepted and ignored.
 */
final class MemoryServerSocket extends ServerSocket {
    private final MemoryNetwork network;
    private final MemoryNetwork.Listener listener;
    private final ArrayDeque<MemoryEnd> backlog = new ArrayDeque<>();
    private final int capacity;
    private volatile int timeout;
    private int acceptors; // threads in accept() now (under the network's lock)

    MemoryServerSocket(MemoryNetwork network, InetSocketAddress address, int capacity) throws IOException {
        this.network = network;
        this.capacity = capacity;
        this.listener = new MemoryNetwork.Listener(address) {
            @Override
            boolean room() {
                return backlog.size() < MemoryServerSocket.this.capacity + acceptors;
            }

            @Override
            void arrived(MemoryEnd end) {
                backlog.add(end);
                network.lock().notifyAll();
            }
        };
    }

    /** The network's record of this listener (to bind it). */
    MemoryNetwork.Listener listener() {
        return listener;
    }

    @Override
    public Socket accept() throws IOException {
        Object lock = network.lock();
        synchronized (lock) {
            long end = System.nanoTime() + timeout * 1_000_000L;
            acceptors++; // a thread waiting here takes a connection at once, whatever the backlog
            try {
                while (true) {
                    if (listener.closed) {
                        throw new SocketException("Socket is closed");
                    }
                    network.admitWaiting(listener);
                    MemoryEnd next = backlog.poll();
                    if (next != null) {
                        network.admitWaiting(listener);
                        return new MemorySocket(next);
                    }
                    long left = timeout == 0 ? 0 : (end - System.nanoTime()) / 1_000_000;
                    if (timeout != 0 && left <= 0) {
                        throw new SocketTimeoutException("Accept timed out");
                    }
                    try {
                        lock.wait(left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted while accepting");
                    }
                }
            } finally {
                acceptors--;
            }
        }
    }

    @Override
    public void close() {
        network.unbind(listener);
        synchronized (network.lock()) {
            for (MemoryEnd e; (e = backlog.poll()) != null; ) {
                e.close(true); // accepted by nobody: a reset, as a closing listener's queue gets
            }
        }
    }

    @Override
    public boolean isClosed() {
        synchronized (network.lock()) {
            return listener.closed;
        }
    }

    @Override
    public boolean isBound() {
        return true;
    }

    @Override
    public void bind(SocketAddress endpoint) throws IOException {
        throw new SocketException("already bound to " + listener.address);
    }

    @Override
    public void bind(SocketAddress endpoint, int backlog) throws IOException {
        bind(endpoint);
    }

    @Override
    public InetAddress getInetAddress() {
        return listener.address.getAddress();
    }

    @Override
    public int getLocalPort() {
        return listener.address.getPort();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return listener.address;
    }

    @Override
    public void setSoTimeout(int timeout) {
        this.timeout = timeout;
    }

    @Override
    public int getSoTimeout() {
        return timeout;
    }

    @Override
    public void setReuseAddress(boolean on) {
        // nothing to reuse in memory
    }

    @Override
    public void setReceiveBufferSize(int size) {
        // the pipes have a fixed capacity
    }

    @Override
    public String toString() {
        return "MemoryServerSocket[" + listener.address + "]";
    }
}
