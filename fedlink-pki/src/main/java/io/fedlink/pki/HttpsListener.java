package io.fedlink.pki;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The enrollment endpoint's HTTPS/1.1 layer, one request per connection, on one NIO thread: it accepts, runs the TLS
 * handshake ({@link SSLEngine}), reads the request line, headers and body, and only then hands the complete request
 * to a small bounded worker pool; the answer goes back through the same thread. A connection that sends nothing,
 * or a byte now and then, costs a socket and (once it sent something) three TLS buffers, never a thread.
 *
 * <p>Limits ({@link EnrollmentServer.Limits}): connections per source address and in all (over: closed at once),
 * a deadline for the handshake and one for the end of the headers (both from the accept), one for the body (from
 * the end of the headers) and for writing the answer; request line, headers and body sizes (414, 431, 413, then
 * closed); the workers and their queue (full: 503 with {@code Retry-After}). Every refusal is counted and logged
 * at INFO, at most one line a second. All connection state is confined to the NIO thread.
 */
final class HttpsListener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EnrollmentServer.class);
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    private static final long SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(2);

    /** A complete request: the header names lower-case, the client's verified chain (empty without one). */
    record Request(String method, String path, Map<String, String> headers, byte[] body,
                   List<X509Certificate> peer, String remote) {}

    /** An answer: status, content type, text. */
    record Response(int status, String type, String body) {
        static Response text(int status, String message) {
            return new Response(status, "text/plain; charset=utf-8", message + "\n");
        }
    }

    private enum Phase { HANDSHAKE, HEADERS, BODY, WORKING, WRITING }

    private final ServerSocketChannel listener;
    private final Selector selector;
    private final SSLContext tls;
    private final EnrollmentServer.Limits limits;
    private final Function<Request, Response> handler;
    private final ThreadPoolExecutor workers;
    private final Thread loop;
    private final Map<InetAddress, Integer> perAddress = new HashMap<>();
    private final Set<Conn> open = new LinkedHashSet<>();
    private final Queue<Runnable> fromWorkers = new ConcurrentLinkedQueue<>();
    private final AtomicLong refusedPerAddress = new AtomicLong();
    private final AtomicLong refusedBusy = new AtomicLong();
    private final AtomicLong refusedOverloaded = new AtomicLong();
    private final AtomicLong refusedOversized = new AtomicLong();
    private final AtomicLong timeouts = new AtomicLong();
    private final AtomicLong lastLog = new AtomicLong();
    private volatile int openCount;
    private volatile boolean closed;
    private long acceptPausedUntil;
    private long lastAcceptWarning = System.nanoTime() - TimeUnit.MINUTES.toNanos(1);
    private long lastSweep;

    HttpsListener(InetSocketAddress bind, SSLContext tls, EnrollmentServer.Limits limits,
                  Function<Request, Response> handler) throws IOException {
        this.tls = tls;
        this.limits = limits;
        this.handler = handler;
        this.selector = Selector.open();
        this.listener = ServerSocketChannel.open();
        try {
            listener.bind(bind, 128);
            listener.configureBlocking(false);
            listener.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException e) {
            listener.close();
            selector.close();
            throw new IOException("cannot listen on " + bind + ": " + e.getMessage(), e);
        }
        this.workers = new ThreadPoolExecutor(limits.workers(), limits.workers(), 30, TimeUnit.SECONDS,
                limits.queue() == 0 ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(limits.queue()), r -> {
                    Thread t = new Thread(r, "fedlink-enrollment");
                    t.setDaemon(true);
                    return t;
                });
        workers.allowCoreThreadTimeOut(true);
        this.loop = new Thread(this::run, "fedlink-enrollment-io");
        loop.setDaemon(true);
        loop.start();
    }

    InetSocketAddress address() throws IOException {
        return (InetSocketAddress) listener.getLocalAddress();
    }

    EnrollmentServer.Refusals refusals() {
        return new EnrollmentServer.Refusals(refusedPerAddress.get(), refusedBusy.get(), refusedOverloaded.get(),
                refusedOversized.get(), timeouts.get());
    }

    int openConnections() {
        return openCount;
    }

    int busyWorkers() {
        return workers.getActiveCount() + workers.getQueue().size();
    }

    /** One client connection; touched by the NIO thread only. */
    private final class Conn {
        final SocketChannel ch;
        final InetAddress address;
        final long acceptedAt = System.nanoTime();
        SelectionKey key;
        SSLEngine engine;
        ByteBuffer netIn;
        ByteBuffer appIn;
        ByteBuffer netOut; // pending bytes to the client, in write mode
        ByteBuffer answer;
        Phase phase = Phase.HANDSHAKE;
        long phaseSince = acceptedAt;
        byte[] received = new byte[512];
        int size;
        int bodyStart;
        int bodyLength;
        String[] requestLine;
        Map<String, String> headers;
        boolean dropped;
        boolean lingering; // the answer is out and the output shut: reading what the client still sends until EOF

        Conn(SocketChannel ch, InetAddress address) {
            this.ch = ch;
            this.address = address;
        }

        String remote() {
            return address.getHostAddress();
        }
    }

    private void run() {
        while (!closed) {
            try {
                selector.select(100);
                for (Runnable r; (r = fromWorkers.poll()) != null; ) {
                    r.run();
                }
                for (SelectionKey k : selector.selectedKeys()) {
                    if (k.isValid() && k.isAcceptable()) {
                        accept(k);
                    } else if (k.isValid()) {
                        Conn c = (Conn) k.attachment();
                        try {
                            if (k.isWritable()) {
                                writable(c);
                            }
                            if (!c.dropped && k.isValid() && k.isReadable()) {
                                readable(c);
                            }
                            interest(c);
                        } catch (IOException | RuntimeException e) {
                            LOG.debug("connection from {} failed: {}", c.remote(), e.toString());
                            drop(c);
                        }
                    }
                }
                selector.selectedKeys().clear();
                sweep();
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    LOG.warn("the enrollment server's loop failed: {}; continuing", e.toString());
                }
            }
        }
    }

    private void accept(SelectionKey k) {
        while (true) {
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (IOException e) { // e.g. out of file descriptors: pause accepting rather than spin
                long now = System.nanoTime();
                if (now - lastAcceptWarning > TimeUnit.SECONDS.toNanos(10)) { // one line in 10 s at most
                    lastAcceptWarning = now;
                    LOG.warn("accept failed on {}: {}; pausing accepts for 100 ms", listener.socket()
                            .getLocalSocketAddress(), e.toString());
                }
                k.interestOps(0);
                acceptPausedUntil = System.nanoTime() + SWEEP_NANOS;
                return;
            }
            if (ch == null) {
                return;
            }
            InetAddress from = ch.socket().getInetAddress();
            int count = perAddress.getOrDefault(from, 0);
            if (open.size() >= limits.maxConnections()) {
                refuse(refusedBusy, from, limits.maxConnections() + " connections open in all");
                closeQuietly(ch);
            } else if (count >= limits.maxPerAddress()) {
                refuse(refusedPerAddress, from, count + " connections open from this address");
                closeQuietly(ch);
            } else {
                try {
                    ch.configureBlocking(false);
                    Conn c = new Conn(ch, from);
                    c.key = ch.register(selector, SelectionKey.OP_READ, c);
                    perAddress.put(from, count + 1);
                    open.add(c);
                    openCount = open.size();
                } catch (IOException e) {
                    closeQuietly(ch);
                }
            }
        }
    }

    private void readable(Conn c) throws IOException {
        if (c.engine == null) { // buffers only for a client that sends something
            c.engine = tls.createSSLEngine();
            c.engine.setUseClientMode(false);
            c.engine.beginHandshake();
            c.netIn = ByteBuffer.allocate(c.engine.getSession().getPacketBufferSize());
            c.appIn = ByteBuffer.allocate(c.engine.getSession().getApplicationBufferSize());
            c.netOut = ByteBuffer.allocate(c.engine.getSession().getPacketBufferSize());
        }
        if (c.phase == Phase.WRITING) { // an early answer (413, 431...): discard the rest, so close sends no reset
            c.netIn.clear();
            if (c.ch.read(c.netIn) < 0) {
                drop(c);
            }
            return;
        }
        if (c.ch.read(c.netIn) < 0) {
            drop(c);
            return;
        }
        pump(c);
    }

    /** Runs the handshake and unwraps request bytes until it needs more input (or the request is complete). */
    private void pump(Conn c) throws IOException {
        c.netIn.flip();
        try {
            while (!c.dropped && c.phase.compareTo(Phase.WORKING) < 0) {
                HandshakeStatus hs = c.engine.getHandshakeStatus();
                if (c.phase == Phase.HANDSHAKE && hs == HandshakeStatus.NOT_HANDSHAKING) {
                    c.phase = Phase.HEADERS;
                }
                if (hs == HandshakeStatus.NEED_TASK) {
                    for (Runnable t; (t = c.engine.getDelegatedTask()) != null; ) {
                        t.run();
                    }
                } else if (hs == HandshakeStatus.NEED_WRAP) {
                    if (!wrap(c, EMPTY)) {
                        return; // the client does not read: wait for OP_WRITE
                    }
                } else if (!c.netIn.hasRemaining()) {
                    return;
                } else {
                    SSLEngineResult r = c.engine.unwrap(c.netIn, c.appIn);
                    switch (r.getStatus()) {
                        case BUFFER_UNDERFLOW -> {
                            return; // a partial record: more to read
                        }
                        case OK -> received(c);
                        default -> { // CLOSED, or a record larger than the session allows
                            drop(c);
                            return;
                        }
                    }
                }
            }
        } finally {
            c.netIn.compact();
        }
    }

    /** Takes the unwrapped bytes and acts once the headers, then the body, are complete. */
    private void received(Conn c) {
        c.appIn.flip();
        int n = c.appIn.remaining();
        if (c.size + n > c.received.length) {
            c.received = Arrays.copyOf(c.received, Math.max(c.received.length * 2, c.size + n));
        }
        c.appIn.get(c.received, c.size, n);
        c.size += n;
        c.appIn.clear();
        if (c.phase == Phase.HEADERS) {
            headers(c);
        }
        if (c.phase == Phase.BODY && c.size - c.bodyStart >= c.bodyLength) {
            byte[] body = Arrays.copyOfRange(c.received, c.bodyStart, c.bodyStart + c.bodyLength);
            submit(c, new Request(c.requestLine[0], c.requestLine[1], c.headers, body, peer(c.engine), c.remote()));
        }
    }

    private void headers(Conn c) {
        int lineEnd = indexOf(c.received, c.size, "\n", 0);
        if ((lineEnd < 0 ? c.size : lineEnd) > limits.maxRequestLine()) {
            oversized(c, 414, "the request line is over " + limits.maxRequestLine() + " bytes");
            return;
        }
        int end = endOfHeaders(c.received, c.size);
        if ((end < 0 ? c.size : end) > limits.maxHeaders()) {
            oversized(c, 431, "the request headers are over " + limits.maxHeaders() + " bytes");
            return;
        }
        if (end < 0) {
            return;
        }
        String[] lines = new String(c.received, 0, end, StandardCharsets.ISO_8859_1).split("\r?\n");
        String[] parts = lines[0].split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
            answer(c, Response.text(400, "malformed request line: send 'POST /v1/enroll HTTP/1.1'"));
            return;
        }
        Map<String, String> headers = new HashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                answer(c, Response.text(400, "malformed header line"));
                return;
            }
            headers.putIfAbsent(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT),
                    lines[i].substring(colon + 1).strip());
        }
        if (headers.containsKey("transfer-encoding")) {
            answer(c, Response.text(411, "chunked bodies are not accepted: send the CSR with a Content-Length"));
            return;
        }
        long length;
        try {
            length = Long.parseLong(headers.getOrDefault("content-length", "0"));
        } catch (NumberFormatException e) {
            answer(c, Response.text(400, "bad Content-Length"));
            return;
        }
        if (length < 0) {
            answer(c, Response.text(400, "bad Content-Length"));
            return;
        }
        if (length > limits.maxBody()) {
            oversized(c, 413, "the request body is over " + limits.maxBody() + " bytes: send one PEM CSR");
            return;
        }
        c.requestLine = parts;
        c.headers = headers;
        c.bodyStart = end;
        c.bodyLength = (int) length;
        c.phase = Phase.BODY;
        c.phaseSince = System.nanoTime();
    }

    private void oversized(Conn c, int status, String message) {
        refuse(refusedOversized, c.address, message);
        answer(c, Response.text(status, message));
    }

    /** The index just after the blank line ending the headers, or -1. */
    private static int endOfHeaders(byte[] b, int size) {
        int crlf = indexOf(b, size, "\r\n\r\n", 0);
        int lf = indexOf(b, size, "\n\n", 0);
        if (crlf >= 0 && (lf < 0 || crlf < lf)) {
            return crlf + 4;
        }
        return lf < 0 ? -1 : lf + 2;
    }

    private static int indexOf(byte[] b, int size, String what, int from) {
        outer:
        for (int i = from; i <= size - what.length(); i++) {
            for (int j = 0; j < what.length(); j++) {
                if (b[i + j] != what.charAt(j)) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static List<X509Certificate> peer(SSLEngine engine) {
        List<X509Certificate> peer = new ArrayList<>();
        try {
            for (Certificate cert : engine.getSession().getPeerCertificates()) {
                peer.add((X509Certificate) cert);
            }
        } catch (SSLPeerUnverifiedException none) {
            // no client certificate: a first enrollment
        }
        return peer;
    }

    private void submit(Conn c, Request r) {
        c.phase = Phase.WORKING;
        c.phaseSince = System.nanoTime();
        try {
            workers.execute(() -> {
                Response answer;
                try {
                    answer = handler.apply(r);
                } catch (RuntimeException e) {
                    LOG.warn("enrollment request failed", e);
                    answer = Response.text(500, "the CA side failed to handle the request; see its log");
                }
                Response done = answer;
                fromWorkers.add(() -> {
                    if (!c.dropped) {
                        try {
                            answer(c, done);
                            interest(c);
                        } catch (RuntimeException e) {
                            drop(c);
                        }
                    }
                });
                selector.wakeup();
            });
        } catch (RejectedExecutionException full) {
            refuse(refusedOverloaded, c.address, "all " + limits.workers() + " workers busy and "
                    + limits.queue() + " requests queued");
            answer(c, Response.text(503, "the CA is busy: retry in a few seconds"));
        }
    }

    /** Sends {@code r} and closes the connection once it is written. */
    private void answer(Conn c, Response r) {
        c.phase = Phase.WRITING;
        c.phaseSince = System.nanoTime();
        byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + r.status() + " " + reason(r.status()) + "\r\nContent-Type: " + r.type()
                + "\r\nContent-Length: " + body.length + (r.status() == 503 ? "\r\nRetry-After: 5" : "")
                + "\r\nConnection: close\r\n\r\n";
        byte[] head8 = head.getBytes(StandardCharsets.US_ASCII);
        c.answer = ByteBuffer.allocate(head8.length + body.length).put(head8).put(body).flip();
        try {
            writeAnswer(c);
        } catch (IOException e) {
            drop(c);
        }
    }

    private void writeAnswer(Conn c) throws IOException {
        while (c.answer.hasRemaining()) {
            if (!wrap(c, c.answer)) {
                return;
            }
        }
        c.engine.closeOutbound();
        while (!c.engine.isOutboundDone()) {
            if (!wrap(c, EMPTY)) {
                return;
            }
        }
        if (flush(c) && !c.lingering) {
            c.lingering = true;
            c.phaseSince = System.nanoTime();
            c.ch.shutdownOutput();
        }
    }

    /** Wraps {@code src} into the pending output; false when that is full and the client is not reading. */
    private static boolean wrap(Conn c, ByteBuffer src) throws IOException {
        while (true) {
            SSLEngineResult r = c.engine.wrap(src, c.netOut);
            if (r.getStatus() != SSLEngineResult.Status.BUFFER_OVERFLOW) {
                flush(c); // what does not go now waits for OP_WRITE
                return true;
            }
            if (!flush(c)) {
                return false;
            }
        }
    }

    /** Writes what is pending; whether all of it went. */
    private static boolean flush(Conn c) throws IOException {
        c.netOut.flip();
        try {
            c.ch.write(c.netOut);
            return !c.netOut.hasRemaining();
        } finally {
            c.netOut.compact();
        }
    }

    private void writable(Conn c) throws IOException {
        if (!flush(c)) {
            return;
        }
        if (c.phase == Phase.WRITING) {
            writeAnswer(c);
        } else if (c.phase.compareTo(Phase.WORKING) < 0) {
            pump(c);
        }
    }

    private static void interest(Conn c) {
        if (c.dropped || !c.key.isValid()) {
            return;
        }
        boolean pending = c.netOut != null && c.netOut.position() > 0;
        c.key.interestOps((c.phase != Phase.WORKING ? SelectionKey.OP_READ : 0)
                | (pending ? SelectionKey.OP_WRITE : 0));
    }

    /** Closes connections past their phase's deadline; resumes accepting after a pause. */
    private void sweep() {
        long now = System.nanoTime();
        if (now - lastSweep < SWEEP_NANOS) {
            return;
        }
        lastSweep = now;
        if (acceptPausedUntil != 0 && now - acceptPausedUntil >= 0) {
            acceptPausedUntil = 0;
            listener.keyFor(selector).interestOps(SelectionKey.OP_ACCEPT);
        }
        for (Conn c : List.copyOf(open)) {
            String late = switch (c.phase) {
                case HANDSHAKE -> now - c.acceptedAt > limits.handshakeTimeout().toNanos()
                        ? "no complete TLS handshake within " + limits.handshakeTimeout().toMillis() + " ms" : null;
                case HEADERS -> now - c.acceptedAt > limits.headerTimeout().toNanos()
                        ? "no complete request headers within " + limits.headerTimeout().toMillis() + " ms" : null;
                case BODY, WRITING -> now - c.phaseSince > (c.lingering ? LINGER_NANOS : limits.bodyTimeout()
                        .toNanos()) ? (c.phase == Phase.BODY ? "no complete body" : "its answer not read")
                        + " within " + limits.bodyTimeout().toMillis() + " ms" : null;
                case WORKING -> null;
            };
            if (late != null) {
                if (!c.lingering) {
                    refuse(timeouts, c.address, late);
                }
                drop(c);
            }
        }
    }

    /** Counts a refusal; logs at most one line a second. */
    private void refuse(AtomicLong counter, InetAddress from, String why) {
        counter.incrementAndGet();
        long now = System.nanoTime();
        long last = lastLog.get();
        if ((last == 0 || now - last > TimeUnit.SECONDS.toNanos(1)) && lastLog.compareAndSet(last, now)) {
            LOG.info("closed a connection from {}: {} (refusals so far: {})", from.getHostAddress(), why,
                    refusals());
        }
    }

    private void drop(Conn c) {
        if (c.dropped) {
            return;
        }
        c.dropped = true;
        c.key.cancel();
        closeQuietly(c.ch);
        open.remove(c);
        openCount = open.size();
        perAddress.computeIfPresent(c.address, (a, n) -> n <= 1 ? null : n - 1);
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 411 -> "Length Required";
            case 413 -> "Content Too Large";
            case 414 -> "URI Too Long";
            case 431 -> "Request Header Fields Too Large";
            case 503 -> "Service Unavailable";
            default -> "Internal Server Error";
        };
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** Stops accepting, cuts every connection and ends the threads. */
    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        try {
            loop.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        workers.shutdownNow();
        for (Conn c : List.copyOf(open)) {
            drop(c);
        }
        try {
            listener.close();
            selector.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
