package io.fedlink.sni;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;

/**
 * A connected {@link Socket} in a {@link MemoryNetwork}: blocking streams over the connection's two pipes, a read
 * timeout, {@link #shutdownOutput()} as a FIN, and {@code setSoLinger(true, 0)} making {@link #close()} a reset. It
 * never opens a descriptor; the methods a connected socket needs are overridden (JSSE can layer TLS over it with
 * {@code SSLSocketFactory.createSocket(socket, host, port, true)}), and tuning options are accepted and ignored.
 */
final class MemorySocket extends Socket {
    private final MemoryEnd end;
    private volatile int timeout;
    private volatile int linger = -1;
    private volatile boolean closed;
    private volatile boolean inputShut;
    private volatile boolean outputShut;
    private final InputStream in = new InputStream() {
        private final byte[] one = new byte[1]; // a socket's stream is read by one thread at a time

        @Override
        public int read() throws IOException {
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            if (inputShut) {
                return -1;
            }
            if (closed) {
                throw new SocketException("Socket closed");
            }
            return end.in.read(b, off, len, timeout);
        }

        @Override
        public int available() throws IOException {
            if (closed) {
                throw new SocketException("Socket closed");
            }
            return inputShut ? 0 : end.in.available();
        }

        @Override
        public void close() {
            MemorySocket.this.close();
        }
    };
    private final OutputStream out = new OutputStream() {
        private final byte[] one = new byte[1]; // a socket's stream is written by one thread at a time

        @Override
        public void write(int b) throws IOException {
            one[0] = (byte) b;
            write(one, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            if (closed) {
                throw new SocketException("Socket closed");
            }
            end.out.write(b, off, len);
        }

        @Override
        public void close() {
            MemorySocket.this.close();
        }
    };

    MemorySocket(MemoryEnd end) {
        this.end = end;
    }

    @Override
    public InputStream getInputStream() throws IOException {
        if (closed) {
            throw new SocketException("Socket is closed");
        }
        return in;
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
        if (closed) {
            throw new SocketException("Socket is closed");
        }
        return out;
    }

    @Override
    public void shutdownOutput() throws IOException {
        if (closed) {
            throw new SocketException("Socket is closed");
        }
        outputShut = true;
        end.out.finish();
    }

    @Override
    public void shutdownInput() throws IOException {
        if (closed) {
            throw new SocketException("Socket is closed");
        }
        inputShut = true;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        end.close(linger == 0);
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public boolean isConnected() {
        return true;
    }

    @Override
    public boolean isBound() {
        return true;
    }

    @Override
    public boolean isInputShutdown() {
        return inputShut;
    }

    @Override
    public boolean isOutputShutdown() {
        return outputShut;
    }

    @Override
    public void connect(SocketAddress endpoint) throws IOException {
        throw new SocketException("already connected to " + end.remote);
    }

    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
        connect(endpoint);
    }

    @Override
    public void bind(SocketAddress bindpoint) throws IOException {
        throw new SocketException("already bound to " + end.local);
    }

    @Override
    public InetAddress getInetAddress() {
        return end.remote.getAddress();
    }

    @Override
    public int getPort() {
        return end.remote.getPort();
    }

    @Override
    public InetAddress getLocalAddress() {
        return end.local.getAddress();
    }

    @Override
    public int getLocalPort() {
        return end.local.getPort();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return end.remote;
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return end.local;
    }

    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        if (timeout < 0) {
            throw new IllegalArgumentException("timeout < 0");
        }
        this.timeout = timeout;
    }

    @Override
    public int getSoTimeout() {
        return timeout;
    }

    @Override
    public void setSoLinger(boolean on, int seconds) {
        this.linger = on ? Math.max(0, seconds) : -1;
    }

    @Override
    public int getSoLinger() {
        return linger;
    }

    @Override
    public void setTcpNoDelay(boolean on) {
        // no delay to avoid in memory
    }

    @Override
    public boolean getTcpNoDelay() {
        return true;
    }

    @Override
    public void setKeepAlive(boolean on) {
        // nothing to keep alive
    }

    @Override
    public void setSendBufferSize(int size) {
        // the pipes have a fixed capacity
    }

    @Override
    public void setReceiveBufferSize(int size) {
        // the pipes have a fixed capacity
    }

    @Override
    public void setReuseAddress(boolean on) {
        // nothing to reuse
    }

    @Override
    public <T> Socket setOption(SocketOption<T> name, T value) {
        return this; // accepted and ignored, as the setters above
    }

    @Override
    public String toString() {
        return "MemorySocket[" + end.local + " -> " + end.remote + (closed ? ", closed" : "") + "]";
    }
}
