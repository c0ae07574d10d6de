package io.fedlink.sni;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * One socket of a connection as its transport drives it: bytes both ways (as a {@link CopyLoop} end), the readiness
 * the connection waits for, a connect to finish, and the close. {@link Connection} sees its client and its target
 * only through this, so the connection's phases do not depend on the transport; {@link NioLink} is the NIO one.
 * Readiness is reported to the owner as {@code Connection.onReady(link, readyOps)}. Used on the owner's loop only.
 */
interface Link extends CopyLoop.End {
    /** Reports readiness to {@code owner} from now on; returns this link. */
    Link attach(Connection owner);

    /**
     * Starts reporting readiness for {@code ops} ({@link java.nio.channels.SelectionKey} bits: {@code OP_READ},
     * {@code OP_WRITE}, {@code OP_CONNECT}).
     *
     * @throws IOException if the transport cannot watch the socket (it is closed)
     */
    void watch(int ops) throws IOException;

    /** The readiness to report from now on ({@code 0}: none); a change only when it differs. */
    void interest(int ops);

    /** Whether the socket is connected (a connect may still be pending). */
    boolean connected();

    /** Completes a pending connect: {@code true} once connected, {@code false} while still pending. */
    boolean finishConnect() throws IOException;

    /** The socket's local address (for a PROXY header), or the wildcard address when it cannot be had. */
    InetSocketAddress localAddress();

    /** The socket's peer, or the wildcard address when it cannot be had. */
    InetSocketAddress remoteAddress();

    /**
     * Closes the socket: {@code abortive} with a reset; otherwise with a FIN first, unless {@code silent} (both
     * directions passed their FIN on already and the close sends nothing). Safe to call more than once.
     */
    void close(boolean abortive, boolean silent);
}
