package io.fedlink.api;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * The one HTTP/1.1 server of fedlink's control plane (admin, metrics, health, and HTTPS enrollment with an optional
 * {@link Tls} stage): small, JDK only, and bounded in
 * every way a hostile or broken client could use against it. One selector thread accepts connections and reads
 * requests without blocking, so a client that sends half a request holds no thread, only its connection (counted
 * against a per-source cap) until the deadline to the end of its request. A complete request goes to a fixed pool
 * of workers with a bounded queue; when both are full the request is answered 503 at once. Answers are written by
 * the selector thread too: a client that does not read cannot hold a worker either.
 *
 * <ul>
 *   <li>request line at most {@link Limits#maxRequestLineBytes} (else 414), request line and headers at most
 *       {@link Limits#maxHeaderBytes} (else 431), body at most {@link Limits#maxBodyBytes} by its
 *       {@code Content-Length} (else 413; chunked bodies are refused 411);</li>
 *   <li>with TLS, the handshake within {@link Tls#handshakeDeadline} of the accept (else closed); the request
 *       line and headers within {@link Limits#requestDeadline} of the accept (else 408 and closed), the body
 *       within {@link Limits#bodyDeadline} of the end of the headers, and the answer read within that again;</li>
 *   <li>at most {@link Limits#maxConnections} connections, and {@link Limits#maxConnectionsPerSource} from one IP
 *       address (a Unix socket's clients count as one source), else 503 and closed (with TLS: closed, nothing can
 *       be said before the handshake);</li>
 *   <li>one request per connection ({@code Connection: close}); after the answer the server shuts its output and
 *       reads what the client still sends until its EOF (at most {@value #LINGER_SECONDS} s), so unread bytes (a
 *       refused body) do not turn the close into a reset that eats the answer.</li>
 * </ul>
 * A connection costs a socket and its small request buffer until it sends bytes; with TLS, the engine and its two
 * network buffers are made at its first byte. The handshake's delegated tasks run on the selector thread (one
 * signature per handshake; the per-source cap bounds one client's share).
 * Every refusal is counted ({@link #refused(Refusal)}) and reported through the log callback at most once per
 * {@value #LOG_EVERY_SECONDS} seconds per reason, with the number left out since. Handlers mark their own refusals
 * (401, 403) with {@link Response#refusal}, so they are counted and logged the same way.
 */
public final class BoundedHttpServer implements AutoCloseable {
    /** Seconds between two log lines about refusals of one reason. */
    public static final int LOG_EVERY_SECONDS = 10;
    /** Seconds the server reads to the client's EOF after its answer, before closing anyway. */
    public static final int LINGER_SECONDS = 2;
    private static final long SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    private static final Object UNIX_SOURCE = "unix";

    /** Why a connection or request was refused, with the status it is answered. */
    public enum Refusal {
        /** Too many connections open from one source address. */
        PER_SOURCE_LIMIT(503),
        /** Too many connections open in all. */
        CONNECTION_LIMIT(503),
        /** Every worker busy and the queue full. */
        OVERLOADED(503),
        /** The request was not complete (or its answer not read) within the deadline. */
        REQUEST_TIMEOUT(408),
        /** No complete TLS handshake within the deadline (closed without an answer). */
        HANDSHAKE_TIMEOUT(408),
        /** The TLS handshake failed, e.g. plain HTTP to a TLS port (closed after a TLS alert, if it goes out). */
        HANDSHAKE_FAILED(400),
        /** The request line is too long. */
        REQUEST_LINE_TOO_LONG(414),
        /** The request line and headers are too long. */
        HEADERS_TOO_LARGE(431),
        /** The body announced is too long. */
        BODY_TOO_LARGE(413),
        /** A body without a {@code Content-Length} (chunked). */
        LENGTH_REQUIRED(411),
        /** Not an HTTP/1.x request. */
        MALFORMED(400),
        /** Refused by the handler: no or a wrong credential. */
        UNAUTHORIZED(401),
        /** Refused by the handler: not allowed (e.g. a browser's request). */
        FORBIDDEN(403);

        private final int status;

        Refusal(int status) {
            this.status = status;
        }

        /** The HTTP status this refusal is answered with. */
        public int status() {
            return status;
        }

        /** The metric label: the name in lower case. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * The limits of one server.
     *
     * @param maxRequestLineBytes     longest request line (method, target, version)
     * @param maxHeaderBytes          longest request line and headers together, the blank line included
     * @param maxBodyBytes            longest body ({@code Content-Length}); 0 refuses every body
     * @param requestDeadline         time from accept to the end of the request line and headers
     * @param bodyDeadline            time from the end of the headers to the end of the body, and again for the
     *                                answer to be read
     * @param maxConnections          connections open at once
     * @param maxConnectionsPerSource connections open at once from one IP address
     * @param workers                 threads running handlers
     * @param queue                   complete requests waiting for a worker (0: none wait)
     */
    public record Limits(int maxRequestLineBytes, int maxHeaderBytes, int maxBodyBytes, Duration requestDeadline,
                         Duration bodyDeadline, int maxConnections, int maxConnectionsPerSource, int workers,
                         int queue) {
        /** 8 KiB request line, 16 KiB headers, 64 KiB body, 10 s, 4,096 connections, 64 per source, 4 workers, 64. */
        public static final Limits DEFAULT = new Limits(8192, 16384, 65536, Duration.ofSeconds(10), 4096, 64, 4, 64);

        /** Checks every limit is positive (the body and queue may be 0) and the header limit holds the line. */
        public Limits {
            if (maxRequestLineBytes < 16 || maxHeaderBytes < maxRequestLineBytes || maxBodyBytes < 0
                    || !positive(requestDeadline) || !positive(bodyDeadline) || maxConnections < 1
                    || maxConnectionsPerSource < 1 || workers < 1 || queue < 0) {
                throw new IllegalArgumentException("invalid HTTP limits " + "(request line " + maxRequestLineBytes
                        + ", headers " + maxHeaderBytes + ", body " + maxBodyBytes + ", deadlines " + requestDeadline
                        + " and " + bodyDeadline + ", connections " + maxConnections + ", per source "
                        + maxConnectionsPerSource + ", workers " + workers + ", queue " + queue
                        + "): each must be positive");
            }
        }

        /** The limits with one deadline for the headers and again for the body ({@code requestDeadline}). */
        public Limits(int maxRequestLineBytes, int maxHeaderBytes, int maxBodyBytes, Duration requestDeadline,
                      int maxConnections, int maxConnectionsPerSource, int workers, int queue) {
            this(maxRequestLineBytes, maxHeaderBytes, maxBodyBytes, requestDeadline, requestDeadline, maxConnections,
                    maxConnectionsPerSource, workers, queue);
        }

        private static boolean positive(Duration d) {
            return d != null && !d.isNegative() && !d.isZero();
        }

        /** These limits with another body limit. */
        public Limits withMaxBodyBytes(int bytes) {
            return new Limits(maxRequestLineBytes, maxHeaderBytes, bytes, requestDeadline, bodyDeadline,
                    maxConnections, maxConnectionsPerSource, workers, queue);
        }

        /** These limits with another per-source connection cap. */
        public Limits withMaxConnectionsPerSource(int connections) {
            return new Limits(maxRequestLineBytes, maxHeaderBytes, maxBodyBytes, requestDeadline, bodyDeadline,
                    maxConnections, connections, workers, queue);
        }

        /** These limits with {@code deadline} for the headers and again for the body. */
        public Limits withRequestDeadline(Duration deadline) {
            return new Limits(maxRequestLineBytes, maxHeaderBytes, maxBodyBytes, deadline, deadline, maxConnections,
                    maxConnectionsPerSource, workers, queue);
        }
    }

    /**
     * The TLS stage: each connection runs a server-side {@link SSLEngine} from {@code context} before its request
     * is read, within {@code handshakeDeadline} of its accept (and never beyond {@link Limits#requestDeadline}).
     *
     * @param context           the server context (its protocols and trust: fedlink's strict contexts)
     * @param clientAuth        whether clients are asked for a certificate; a verified chain reaches the handler
     *                          as {@link Request#clientCertificates}
     * @param handshakeDeadline time from accept to the end of the handshake
     */
    public record Tls(SSLContext context, ClientAuth clientAuth, Duration handshakeDeadline) {
        /** Checks the values; an error names the bad one. */
        public Tls {
            Objects.requireNonNull(context, "context");
            Objects.requireNonNull(clientAuth, "clientAuth");
            if (!Limits.positive(handshakeDeadline)) {
                throw new IllegalArgumentException("the TLS handshake deadline must be positive, was "
                        + handshakeDeadline);
            }
        }
    }

    /**
     * A complete request.
     *
     * @param method   the method as sent (case-sensitive, e.g. {@code GET})
     * @param path     the target's path, not decoded
     * @param rawQuery the target's query string after {@code ?}, not decoded, or {@code null}
     * @param headers  header names in lower case to their first value
     * @param body     the body ({@code Content-Length} bytes), empty without one
     * @param remote   the client's address ({@link InetSocketAddress}, or a {@link UnixDomainSocketAddress})
     * @param clientCertificates the client's verified certificate chain over TLS, leaf first; empty without one
     */
    public record Request(String method, String path, String rawQuery, Map<String, String> headers, byte[] body,
                          SocketAddress remote, List<X509Certificate> clientCertificates) {
        /** A request without a client certificate. */
        public Request(String method, String path, String rawQuery, Map<String, String> headers, byte[] body,
                       SocketAddress remote) {
            this(method, path, rawQuery, headers, body, remote, List.of());
        }

        /** The first value of a header (any case), or {@code null}. */
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /**
     * An answer.
     *
     * @param status      the HTTP status
     * @param contentType the {@code Content-Type}
     * @param body        the body (not sent for {@code HEAD})
     * @param headers     more headers
     * @param refusal     why the handler refused the request (counted and logged), or {@code null}
     */
    public record Response(int status, String contentType, byte[] body, Map<String, String> headers,
                           Refusal refusal) {
        /** A UTF-8 text answer. */
        public static Response of(int status, String contentType, String body) {
            return new Response(status, contentType, body.getBytes(StandardCharsets.UTF_8), Map.of(), null);
        }

        /** The handler's refusal: answered with its status, counted and logged like the server's own. */
        public static Response refusal(Refusal why, String contentType, String body) {
            return new Response(why.status(), contentType, body.getBytes(StandardCharsets.UTF_8), Map.of(), why);
        }

        /** This answer with one more header. */
        public Response withHeader(String name, String value) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put(name, value);
            return new Response(status, contentType, body, Collections.unmodifiableMap(h), refusal);
        }
    }

    /** Answers one request, on a worker thread. An exception is answered 500 and logged. */
    @FunctionalInterface
    public interface Handler {
        /** The answer to {@code request}. */
        Response handle(Request request) throws Exception;
    }

    /** One connection, touched by the selector thread only (but {@link #answer}, set by a worker). */
    private static final class Conn {
        final SocketChannel channel;
        final Object source;
        final SocketAddress remote;
        final long accepted;
        long deadline;
        ByteBuffer in = ByteBuffer.allocate(1024);
        int headerEnd = -1;
        int lineEnd = -1;
        int scanned;
        int bodyLength;
        Request request;
        volatile ByteBuffer answer;
        Refusal refusal;
        boolean working;
        boolean handshaking; // with TLS: until the handshake is done
        boolean lingering; // the answer is out and the output shut: reading to the client's EOF
        SSLEngine engine; // with TLS, from the first byte
        ByteBuffer netIn;
        ByteBuffer netOut; // TLS bytes not written yet, in write mode

        Conn(SocketChannel channel, Object source, SocketAddress remote, long accepted, long deadline) {
            this.channel = channel;
            this.source = source;
            this.remote = remote;
            this.accepted = accepted;
            this.deadline = deadline;
        }
    }

    private final String name;
    private final Limits limits;
    private final Tls tls;
    private final Handler handler;
    private final Consumer<String> log;
    private final ServerSocketChannel server;
    private final Selector selector;
    private final ThreadPoolExecutor workers;
    private final Thread loop;
    private final Map<Refusal, LongAdder> refused = new EnumMap<>(Refusal.class);
    private final Map<Refusal, long[]> logState = new EnumMap<>(Refusal.class); // {next log nanos, left out}
    private final ConcurrentLinkedQueue<Conn> answered = new ConcurrentLinkedQueue<>();
    private final Map<Object, Integer> perSource = new HashMap<>();
    private final ByteBuffer discard = ByteBuffer.allocate(4096); // what a lingering client still sends
    private volatile int connections; // written by the selector thread only
    private long acceptPausedUntil;
    private final AtomicLong nextErrorLog = new AtomicLong(System.nanoTime());
    private volatile boolean open = true;

    private BoundedHttpServer(String name, ServerSocketChannel server, Limits limits, Tls tls, Handler handler,
                              Consumer<String> log) throws IOException {
        this.name = name;
        this.limits = limits;
        this.tls = tls;
        this.handler = handler;
        this.log = log;
        this.server = server;
        this.selector = Selector.open();
        for (Refusal r : Refusal.values()) {
            refused.put(r, new LongAdder());
            logState.put(r, new long[] {System.nanoTime(), 0});
        }
        server.configureBlocking(false);
        server.register(selector, SelectionKey.OP_ACCEPT);
        this.workers = new ThreadPoolExecutor(limits.workers(), limits.workers(), 0, TimeUnit.SECONDS,
                limits.queue() == 0 ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(limits.queue()),
                r -> daemon(r, "fedlink-" + name + "-http-worker"));
        this.loop = daemon(this::run, "fedlink-" + name + "-http");
    }

    private static Thread daemon(Runnable r, String threadName) {
        Thread t = new Thread(r, threadName);
        t.setDaemon(true);
        return t;
    }

    /**
     * Binds {@code address} (an {@link InetSocketAddress}, or a {@link UnixDomainSocketAddress} whose file must not
     * exist yet) and serves {@code handler} within {@code limits}, in plain HTTP.
     *
     * @param name    a short name for threads and log lines, e.g. {@code admin}
     * @param log     receives the rate-limited INFO lines about refusals and handler failures
     * @throws IOException when the address cannot be bound; the message names it
     */
    public static BoundedHttpServer start(String name, SocketAddress address, Limits limits, Handler handler,
                                          Consumer<String> log) throws IOException {
        return start(name, address, limits, null, handler, log);
    }

    /**
     * Like {@link #start(String, SocketAddress, Limits, Handler, Consumer)}, over TLS when {@code tls} is given
     * (HTTPS), in plain HTTP when it is {@code null}.
     *
     * @throws IOException when the address cannot be bound; the message names it
     */
    public static BoundedHttpServer start(String name, SocketAddress address, Limits limits, Tls tls,
                                          Handler handler, Consumer<String> log) throws IOException {
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(log, "log");
        ServerSocketChannel ch = address instanceof UnixDomainSocketAddress
                ? ServerSocketChannel.open(StandardProtocolFamily.UNIX) : ServerSocketChannel.open();
        try {
            ch.bind(address, 128);
        } catch (IOException e) {
            ch.close();
            throw new IOException("cannot serve " + name + " on " + describe(address) + ": " + e.getMessage()
                    + " (choose another address)", e);
        }
        BoundedHttpServer s = new BoundedHttpServer(name, ch, limits, tls, handler, log);
        s.loop.start();
        return s;
    }

    /** {@code 127.0.0.1:9464} or the socket file's path. */
    public static String describe(SocketAddress a) {
        if (a instanceof InetSocketAddress i) {
            return Endpoint.of(i.getAddress() == null ? i.getHostString() : i.getAddress().getHostAddress(),
                    i.getPort()).toString();
        }
        if (a instanceof UnixDomainSocketAddress u) {
            return u.getPath().toString().isEmpty() ? "a Unix socket client" : u.getPath().toString();
        }
        return String.valueOf(a);
    }

    /** The address bound (the actual port when bound with port 0). */
    public SocketAddress address() {
        try {
            return server.getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException("the " + name + " server is closed", e);
        }
    }

    /** Connections and requests refused for {@code why} since start. */
    public long refused(Refusal why) {
        return refused.get(why).sum();
    }

    /** Connections open now (accepted and not closed yet). */
    public int openConnections() {
        return connections;
    }

    /** Requests being handled or waiting for a worker now. */
    public int busyWorkers() {
        return workers.getActiveCount() + workers.getQueue().size();
    }

    private void run() {
        long nextSweep = System.nanoTime() + SWEEP_NANOS;
        while (open) {
            try {
                selector.select(TimeUnit.NANOSECONDS.toMillis(SWEEP_NANOS));
                for (SelectionKey k : selector.selectedKeys()) {
                    if (!k.isValid()) {
                        continue;
                    }
                    if (k.isAcceptable()) {
                        accept(k);
                    } else if (k.isReadable()) {
                        read(k, (Conn) k.attachment());
                    } else if (k.isWritable()) {
                        write(k, (Conn) k.attachment());
                    }
                }
                selector.selectedKeys().clear();
                for (Conn c; (c = answered.poll()) != null; ) {
                    c.working = false;
                    startWriting(c, c.answer, c.refusal);
                }
                long now = System.nanoTime();
                if (now - nextSweep >= 0) {
                    nextSweep = now + SWEEP_NANOS;
                    sweep(now);
                }
            } catch (IOException | RuntimeException e) {
                if (open) { // one bad key must not stop the loop
                    logError(name + " HTTP server: " + e);
                }
            }
        }
    }

    private void accept(SelectionKey serverKey) {
        while (true) {
            SocketChannel accepted;
            try {
                accepted = server.accept();
            } catch (IOException e) { // e.g. out of file descriptors: pause accepting rather than spin
                logError(name + " HTTP server: accept failed: " + e + "; pausing accepts for 100 ms");
                serverKey.interestOps(0);
                acceptPausedUntil = System.nanoTime() + SWEEP_NANOS;
                return;
            }
            if (accepted == null) {
                return;
            }
            try {
                admit(accepted);
            } catch (IOException e) { // gone already (reset before we looked): nothing to serve, nothing to count
                if (accepted.keyFor(selector) == null) {
                    closeQuietly(accepted);
                }
            }
        }
    }

    private void admit(SocketChannel ch) throws IOException {
        SocketAddress remote = ch.getRemoteAddress();
        Object source = remote instanceof InetSocketAddress i ? i.getAddress() : UNIX_SOURCE;
        int fromSource = perSource.getOrDefault(source, 0);
        Refusal over = connections >= limits.maxConnections() ? Refusal.CONNECTION_LIMIT
                : fromSource >= limits.maxConnectionsPerSource() ? Refusal.PER_SOURCE_LIMIT : null;
        ch.configureBlocking(false);
        if (over != null) { // answered at once without reading: best effort, the socket buffer takes it
            count(over, remote);
            try (ch) {
                if (tls == null) { // over TLS nothing can be said before a handshake: closed
                    ch.write(refusalAnswer(over));
                }
            }
            return;
        }
        long now = System.nanoTime();
        long first = tls == null ? limits.requestDeadline().toNanos()
                : Math.min(tls.handshakeDeadline().toNanos(), limits.requestDeadline().toNanos());
        Conn c = new Conn(ch, source, remote, now, now + first);
        c.handshaking = tls != null;
        ch.register(selector, SelectionKey.OP_READ, c);
        connections++;
        perSource.put(source, fromSource + 1);
    }

    private void read(SelectionKey k, Conn c) {
        int n;
        try {
            if (c.lingering) { // the answer is out: what the client still sends is dropped until its EOF
                discard.clear();
                n = c.channel.read(discard);
            } else {
                n = tls == null ? c.channel.read(c.in) : readTls(k, c);
            }
        } catch (SSLException e) { // not TLS (plain HTTP to a TLS port), or a handshake refused
            handshakeFailed(k, c);
            return;
        } catch (IOException e) {
            n = -1;
        }
        if (n < 0) {
            close(k, c);
        } else if (!c.lingering) {
            received(k, c);
        }
    }

    /** Acts on the request bytes so far: refuses, dispatches once complete, or makes room for more. */
    private void received(SelectionKey k, Conn c) {
        if (c.handshaking) {
            return;
        }
        Refusal bad = c.headerEnd < 0 ? parseHead(c) : null;
        if (bad == null && c.headerEnd >= 0 && c.in.position() >= c.headerEnd + c.bodyLength) {
            dispatch(k, c);
        } else if (bad != null) {
            k.interestOps(0);
            startWriting(c, refusalAnswer(bad), bad);
        } else if (tls == null && !c.in.hasRemaining()) { // with TLS, room is made before each record
            int want = c.headerEnd >= 0 ? c.headerEnd + c.bodyLength : limits.maxHeaderBytes();
            c.in = ByteBuffer.allocate(Math.min(Math.max(c.in.capacity() * 2, 1024), want))
                    .put(c.in.flip());
        }
    }

    /** Reads TLS bytes and runs them through the engine; -1 at the client's EOF or TLS close. */
    private int readTls(SelectionKey k, Conn c) throws IOException {
        if (c.engine == null) { // the engine and its buffers only for a client that sends something
            c.engine = tls.context().createSSLEngine();
            c.engine.setUseClientMode(false);
            switch (tls.clientAuth()) {
                case REQUIRED -> c.engine.setNeedClientAuth(true);
                case OPTIONAL -> c.engine.setWantClientAuth(true);
                default -> c.engine.setWantClientAuth(false);
            }
            c.engine.beginHandshake();
            c.netIn = ByteBuffer.allocate(c.engine.getSession().getPacketBufferSize());
            c.netOut = ByteBuffer.allocate(c.engine.getSession().getPacketBufferSize());
        }
        int n = c.channel.read(c.netIn);
        return n < 0 || !pump(k, c) ? -1 : n;
    }

    /**
     * Runs the handshake and unwraps the complete records received into the request buffer (each record is at
     * most one application buffer, and one read brings at most one network buffer of them, so the request buffer
     * stays bounded by the limits plus a record); false when the client closed TLS.
     */
    private boolean pump(SelectionKey k, Conn c) throws IOException {
        c.netIn.flip();
        try {
            while (true) {
                HandshakeStatus hs = c.engine.getHandshakeStatus();
                if (hs == HandshakeStatus.NEED_TASK) {
                    for (Runnable t; (t = c.engine.getDelegatedTask()) != null; ) {
                        t.run();
                    }
                } else if (hs == HandshakeStatus.NEED_WRAP) {
                    if (!flushTls(c)) {
                        k.interestOps(SelectionKey.OP_WRITE); // the client does not read: wait until it does
                        return true;
                    }
                    c.engine.wrap(EMPTY, c.netOut);
                } else if (!c.netIn.hasRemaining()) {
                    break;
                } else {
                    int room = c.engine.getSession().getApplicationBufferSize();
                    if (c.in.remaining() < room) {
                        c.in = ByteBuffer.allocate(c.in.position() + room).put(c.in.flip());
                    }
                    SSLEngineResult r = c.engine.unwrap(c.netIn, c.in);
                    if (r.getStatus() == SSLEngineResult.Status.CLOSED
                            || r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                        return false;
                    }
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                        break; // a partial record: more to read
                    }
                }
            }
        } finally {
            c.netIn.compact();
        }
        if (c.handshaking && c.engine.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING) {
            c.handshaking = false;
            c.deadline = c.accepted + limits.requestDeadline().toNanos();
        }
        if (!flushTls(c)) {
            k.interestOps(SelectionKey.OP_WRITE);
        }
        return true;
    }

    /** Writes the pending TLS bytes; whether all of them went. */
    private static boolean flushTls(Conn c) throws IOException {
        c.netOut.flip();
        try {
            c.channel.write(c.netOut);
            return !c.netOut.hasRemaining();
        } finally {
            c.netOut.compact();
        }
    }

    /** A failed handshake: counted, the engine's alert sent if the socket takes it, closed. */
    private void handshakeFailed(SelectionKey k, Conn c) {
        count(Refusal.HANDSHAKE_FAILED, c.remote);
        try {
            c.engine.closeOutbound();
            c.engine.wrap(EMPTY, c.netOut);
            flushTls(c);
        } catch (IOException | RuntimeException e) {
            // closed below anyway
        }
        close(k, c);
    }

    /** Looks for the end of the headers and parses them: a refusal, or null (complete or not yet). */
    private Refusal parseHead(Conn c) {
        byte[] a = c.in.array();
        int len = c.in.position();
        int from = Math.max(0, c.scanned - 3); // each byte looked at about once, however slowly it comes
        c.scanned = len;
        if (c.lineEnd < 0) {
            c.lineEnd = indexOf(a, from, len, "\r\n");
        }
        int end = indexOf(a, from, len, "\r\n\r\n");
        if ((c.lineEnd < 0 ? len : c.lineEnd) > limits.maxRequestLineBytes()) {
            return Refusal.REQUEST_LINE_TOO_LONG;
        }
        if (end < 0) {
            return len >= limits.maxHeaderBytes() ? Refusal.HEADERS_TOO_LARGE : null;
        }
        if (end + 4 > limits.maxHeaderBytes()) {
            return Refusal.HEADERS_TOO_LARGE;
        }
        String[] lines = new String(a, 0, end, StandardCharsets.ISO_8859_1).split("\r\n", -1);
        String[] first = lines[0].split(" ", -1);
        if (first.length != 3 || !first[0].matches("[A-Z]{1,16}") || !first[1].startsWith("/")
                || !first[2].matches("HTTP/1\\.[01]") || first[1].chars().anyMatch(ch -> ch <= ' ' || ch >= 0x7f)) {
            return Refusal.MALFORMED;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            String h = colon > 0 ? lines[i].substring(0, colon) : "";
            if (!h.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) { // no obsolete folding, no space before the colon
                return Refusal.MALFORMED;
            }
            String key = h.toLowerCase(Locale.ROOT);
            String value = lines[i].substring(colon + 1).strip();
            String had = headers.putIfAbsent(key, value);
            if (had != null && key.equals("content-length") && !had.equals(value)) {
                return Refusal.MALFORMED;
            }
        }
        if (headers.containsKey("transfer-encoding")) {
            return Refusal.LENGTH_REQUIRED;
        }
        String length = headers.getOrDefault("content-length", "0");
        if (!length.matches("\\d{1,10}")) {
            return Refusal.MALFORMED;
        }
        long body = Long.parseLong(length);
        if (body > limits.maxBodyBytes()) {
            return Refusal.BODY_TOO_LARGE;
        }
        c.headerEnd = end + 4;
        c.bodyLength = (int) body;
        c.deadline = System.nanoTime() + limits.bodyDeadline().toNanos();
        String target = first[1];
        int q = target.indexOf('?');
        c.request = new Request(first[0], q < 0 ? target : target.substring(0, q), q < 0 ? null
                : target.substring(q + 1), Collections.unmodifiableMap(headers), null, c.remote);
        return null;
    }

    private static int indexOf(byte[] a, int from, int len, String what) {
        outer:
        for (int i = from; i + what.length() <= len; i++) {
            for (int j = 0; j < what.length(); j++) {
                if (a[i + j] != what.charAt(j)) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private void dispatch(SelectionKey k, Conn c) {
        k.interestOps(0);
        byte[] body = new byte[c.bodyLength];
        System.arraycopy(c.in.array(), c.headerEnd, body, 0, body.length);
        Request r = c.request;
        Request full = new Request(r.method(), r.path(), r.rawQuery(), r.headers(), body, r.remote(),
                c.engine == null ? List.of() : clientCertificates(c.engine));
        c.in = null;
        c.working = true;
        try {
            workers.execute(() -> work(c, full));
        } catch (RejectedExecutionException e) {
            c.working = false;
            startWriting(c, refusalAnswer(Refusal.OVERLOADED), Refusal.OVERLOADED);
        }
    }

    private static List<X509Certificate> clientCertificates(SSLEngine engine) {
        List<X509Certificate> chain = new ArrayList<>();
        try {
            for (Certificate cert : engine.getSession().getPeerCertificates()) {
                chain.add((X509Certificate) cert);
            }
        } catch (SSLPeerUnverifiedException none) {
            // no client certificate
        }
        return List.copyOf(chain);
    }

    private void work(Conn c, Request r) {
        Response a;
        try {
            a = handler.handle(r);
        } catch (Exception | Error e) {
            logError(name + " HTTP server: " + r.method() + " " + r.path() + " failed: " + e);
            a = Response.of(500, "text/plain; charset=utf-8", "internal error\n");
        }
        c.refusal = a.refusal();
        c.answer = encode(a.status(), a.contentType(), a.body(), a.headers(), r.method().equals("HEAD"));
        answered.add(c);
        selector.wakeup();
    }

    private void startWriting(Conn c, ByteBuffer answer, Refusal why) {
        if (why != null) {
            count(why, c.remote);
        }
        c.answer = answer;
        c.deadline = System.nanoTime() + limits.bodyDeadline().toNanos();
        SelectionKey k = c.channel.keyFor(selector);
        if (k != null && k.isValid()) {
            k.interestOps(SelectionKey.OP_WRITE);
            write(k, c);
        }
    }

    private void write(SelectionKey k, Conn c) {
        try {
            if (c.answer == null) { // TLS handshake bytes the client had not taken: go on with the handshake
                if (flushTls(c)) {
                    k.interestOps(SelectionKey.OP_READ);
                    if (!pump(k, c)) {
                        close(k, c);
                        return;
                    }
                    received(k, c);
                }
                return;
            }
            if (!(tls == null ? writePlain(c) : writeTls(c))) {
                return;
            }
            c.channel.shutdownOutput();
            c.lingering = true;
            c.deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(LINGER_SECONDS);
            k.interestOps(SelectionKey.OP_READ);
            return;
        } catch (SSLException e) {
            handshakeFailed(k, c);
            return;
        } catch (IOException e) {
            // the client left: nothing more to say
        }
        close(k, c);
    }

    private static boolean writePlain(Conn c) throws IOException {
        c.channel.write(c.answer);
        return !c.answer.hasRemaining();
    }

    /** Wraps and writes the answer, then the TLS close; whether all of it went. */
    private static boolean writeTls(Conn c) throws IOException {
        while (flushTls(c)) {
            if (c.engine.isOutboundDone()) {
                return true;
            }
            if (!c.answer.hasRemaining()) {
                c.engine.closeOutbound();
            }
            c.engine.wrap(c.answer, c.netOut);
        }
        return false;
    }

    private void sweep(long now) {
        if (acceptPausedUntil != 0 && now - acceptPausedUntil >= 0) {
            acceptPausedUntil = 0;
            server.keyFor(selector).interestOps(SelectionKey.OP_ACCEPT);
        }
        for (SelectionKey k : selector.keys()) {
            if (k.attachment() instanceof Conn c && k.isValid() && !c.working && now - c.deadline >= 0) {
                if (c.handshaking) {
                    count(Refusal.HANDSHAKE_TIMEOUT, c.remote);
                } else if (!c.lingering) { // request or answer late: counted; answered 408 in plain HTTP
                    count(Refusal.REQUEST_TIMEOUT, c.remote);
                    if (c.answer == null && tls == null) {
                        try {
                            c.channel.write(refusalAnswer(Refusal.REQUEST_TIMEOUT));
                        } catch (IOException e) {
                            // closed below anyway
                        }
                    }
                }
                close(k, c);
            }
        }
    }

    private void close(SelectionKey k, Conn c) {
        if (!k.isValid()) {
            return; // closed already
        }
        k.cancel();
        closeQuietly(c.channel);
        connections--;
        perSource.computeIfPresent(c.source, (s, n) -> n > 1 ? n - 1 : null);
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // closed anyway
        }
    }

    /** Logs an unexpected failure, at most one line per {@value #LOG_EVERY_SECONDS} seconds (from any thread). */
    private void logError(String line) {
        long next = nextErrorLog.get();
        long now = System.nanoTime();
        if (now - next >= 0 && nextErrorLog.compareAndSet(next, now + TimeUnit.SECONDS.toNanos(LOG_EVERY_SECONDS))) {
            log.accept(line + " (at most one such line per " + LOG_EVERY_SECONDS + " s)");
        }
    }

    private void count(Refusal why, SocketAddress remote) {
        refused.get(why).increment();
        long[] state = logState.get(why);
        long now = System.nanoTime();
        if (now - state[0] >= 0) {
            log.accept(name + " HTTP server: refused " + why.label() + " (" + why.status() + ") from "
                    + describe(remote) + (state[1] > 0 ? "; " + state[1] + " more refused so since the last line"
                    : "") + " (at most one line per " + LOG_EVERY_SECONDS + " s)");
            state[0] = now + TimeUnit.SECONDS.toNanos(LOG_EVERY_SECONDS);
            state[1] = 0;
        } else {
            state[1]++;
        }
    }

    /** The server's own answer to a refusal; a 503 says when to come back. */
    private ByteBuffer refusalAnswer(Refusal why) {
        return encode(why.status(), "text/plain; charset=utf-8", refusalText(why),
                why.status() == 503 ? Map.of("Retry-After", "5") : Map.of(), false);
    }

    private String refusalText(Refusal why) {
        return switch (why) {
            case PER_SOURCE_LIMIT -> "too many connections from your address (at most "
                    + limits.maxConnectionsPerSource() + "): try again later\n";
            case CONNECTION_LIMIT -> "too many connections: try again later\n";
            case OVERLOADED -> "overloaded: try again later\n";
            case REQUEST_TIMEOUT -> "request not complete within " + limits.requestDeadline().toSeconds() + " s\n";
            case REQUEST_LINE_TOO_LONG -> "the request line is over " + limits.maxRequestLineBytes() + " bytes\n";
            case HEADERS_TOO_LARGE -> "the request line and headers are over " + limits.maxHeaderBytes() + " bytes\n";
            case BODY_TOO_LARGE -> "the request body is over " + limits.maxBodyBytes() + " bytes\n";
            case LENGTH_REQUIRED -> "send the body with a Content-Length\n";
            default -> "malformed request\n";
        };
    }

    private static ByteBuffer encode(int status, String type, String body, Map<String, String> headers,
                                     boolean head) {
        return encode(status, type, body.getBytes(StandardCharsets.UTF_8), headers, head);
    }

    private static ByteBuffer encode(int status, String type, byte[] body, Map<String, String> headers,
                                     boolean head) {
        StringBuilder b = new StringBuilder(128).append("HTTP/1.1 ").append(status).append(' ')
                .append(reason(status)).append("\r\nContent-Type: ").append(type).append("\r\nContent-Length: ")
                .append(body.length).append("\r\nConnection: close\r\n");
        headers.forEach((k, v) -> b.append(k).append(": ").append(v).append("\r\n"));
        byte[] h = b.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer out = ByteBuffer.allocate(h.length + (head ? 0 : body.length)).put(h);
        if (!head) {
            out.put(body);
        }
        return out.flip();
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 411 -> "Length Required";
            case 413 -> "Content Too Large";
            case 414 -> "URI Too Long";
            case 431 -> "Request Header Fields Too Large";
            case 503 -> "Service Unavailable";
            default -> status >= 500 ? "Server Error" : "Status";
        };
    }

    /**
     * A status line and body read by {@link #exchange}.
     *
     * @param status the HTTP status
     * @param body   the body (everything after the headers), as UTF-8
     * @param raw    the whole answer, as ISO-8859-1
     */
    public record Answer(int status, String body, String raw) {}

    /**
     * A one-shot HTTP client for these servers, over TCP or a Unix socket: connects to {@code at}, sends
     * {@code request} as it is (request line, headers, blank line, body), and reads the answer to its end, at most
     * {@code maxBytes}, all within {@code timeout}.
     *
     * @throws ConnectException when the connection cannot be made (refused, no such socket, permission denied)
     * @throws IOException when the server cannot be reached, does not answer in time, or answers what is not HTTP
     */
    public static Answer exchange(SocketAddress at, String request, Duration timeout, int maxBytes)
            throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (SocketChannel ch = at instanceof UnixDomainSocketAddress ? SocketChannel.open(StandardProtocolFamily.UNIX)
                : SocketChannel.open(); Selector sel = Selector.open()) {
            try {
                ch.connect(at); // local: a refused, missing or forbidden endpoint fails at once
            } catch (IOException e) {
                throw (ConnectException) new ConnectException(e.getMessage()).initCause(e);
            }
            ch.configureBlocking(false);
            ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1));
            ByteBuffer in = ByteBuffer.allocate(maxBytes);
            SelectionKey k = ch.register(sel, SelectionKey.OP_WRITE);
            while (true) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    throw new IOException("no complete answer from " + describe(at) + " within "
                            + timeout.toMillis() + " ms");
                }
                sel.select(left);
                if (out.hasRemaining()) {
                    ch.write(out);
                    k.interestOps(out.hasRemaining() ? SelectionKey.OP_WRITE : SelectionKey.OP_READ);
                } else if ((ch.read(in) < 0) || !in.hasRemaining()) {
                    break;
                }
            }
            String raw = new String(in.array(), 0, in.position(), StandardCharsets.ISO_8859_1);
            int end = raw.indexOf("\r\n\r\n");
            if (!raw.matches("(?s)HTTP/1\\.[01] \\d{3} .*") || end < 0) {
                throw new IOException(describe(at) + " did not answer HTTP: "
                        + HostNames.quote(raw.substring(0, Math.min(80, raw.length()))));
            }
            byte[] body = raw.substring(end + 4).getBytes(StandardCharsets.ISO_8859_1);
            return new Answer(Integer.parseInt(raw.substring(9, 12)), new String(body, StandardCharsets.UTF_8), raw);
        }
    }

    /** Stops accepting and serving at once; open connections are closed. */
    @Override
    public void close() {
        open = false;
        selector.wakeup();
        try {
            loop.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<SelectionKey> keys = new ArrayList<>(selector.keys());
        for (SelectionKey k : keys) {
            try {
                k.channel().close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        try {
            selector.close();
        } catch (IOException e) {
            // closed anyway
        }
        workers.shutdownNow();
    }
}
