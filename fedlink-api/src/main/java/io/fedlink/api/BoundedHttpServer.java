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
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * The one HTTP/1.1 server of fedlink's control plane (admin, metrics and health): small, JDK only, and bounded in
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
 *   <li>the whole request within {@link Limits#requestDeadline} of the connection's accept (else 408 and
 *       closed);</li>
 *   <li>at most {@link Limits#maxConnections} connections, and {@link Limits#maxConnectionsPerSource} from one IP
 *       address (a Unix socket's clients count as one source), else 503 and closed;</li>
 *   <li>one request per connection ({@code Connection: close}).</li>
 * </ul>
 * Every refusal is counted ({@link #refused(Refusal)}) and reported through the log callback at most once per
 * {@value #LOG_EVERY_SECONDS} seconds per reason, with the number left out since. Handlers mark their own refusals
 * (401, 403) with {@link Response#refusal}, so they are counted and logged the same way.
 */
public final class BoundedHttpServer implements AutoCloseable {
    /** Seconds between two log lines about refusals of one reason. */
    public static final int LOG_EVERY_SECONDS = 10;
    private static final long SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final Object UNIX_SOURCE = "unix";

    /** Why a connection or request was refused, with the status it is answered. */
    public enum Refusal {
        /** Too many connections open from one source address. */
        PER_SOURCE_LIMIT(503),
        /** Too many connections open in all. */
        CONNECTION_LIMIT(503),
        /** Every worker busy and the queue full. */
        OVERLOADED(503),
        /** The request was not complete within the deadline. */
        REQUEST_TIMEOUT(408),
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
     * @param requestDeadline         time from accept to the end of the request, and again to write the answer
     * @param maxConnections          connections open at once
     * @param maxConnectionsPerSource connections open at once from one IP address
     * @param workers                 threads running handlers
     * @param queue                   complete requests waiting for a worker
     */
    public record Limits(int maxRequestLineBytes, int maxHeaderBytes, int maxBodyBytes, Duration requestDeadline,
                         int maxConnections, int maxConnectionsPerSource, int workers, int queue) {
        /** 8 KiB request line, 16 KiB headers, 64 KiB body, 10 s, 4,096 connections, 64 per source, 4 workers, 64. */
        public static final Limits DEFAULT = new Limits(8192, 16384, 65536, Duration.ofSeconds(10), 4096, 64, 4, 64);

        /** Checks every limit is positive (the body may be 0) and the header limit holds the request line. */
        public Limits {
            if (maxRequestLineBytes < 16 || maxHeaderBytes < maxRequestLineBytes || maxBodyBytes < 0
                    || requestDeadline.isNegative() || requestDeadline.isZero() || maxConnections < 1
                    || maxConnectionsPerSource < 1 || workers < 1 || queue < 1) {
                throw new IllegalArgumentException("invalid HTTP limits " + "(request line " + maxRequestLineBytes
                        + ", headers " + maxHeaderBytes + ", body " + maxBodyBytes + ", deadline " + requestDeadline
                        + ", connections " + maxConnections + ", per source " + maxConnectionsPerSource + ", workers "
                        + workers + ", queue " + queue + "): each must be positive");
            }
        }

        /** These limits with another body limit. */
        public Limits withMaxBodyBytes(int bytes) {
            return new Limits(maxRequestLineBytes, maxHeaderBytes, bytes, requestDeadline, maxConnections,
                    maxConnectionsPerSource, workers, queue);
        }

        /** These limits with another per-source connection cap. */
        public Limits withMaxConnectionsPerSource(int connections) {
            return new Limits(maxRequestLineBytes, maxHeaderBytes, maxBodyBytes, requestDeadline, maxConnections,
                    connections, workers, queue);
        }

        /** These limits with another request deadline. */
        public Limits withRequestDeadline(Duration deadline) {
            return new Limits(maxRequestLineBytes, maxHeaderBytes, maxBodyBytes, deadline, maxConnections,
                    maxConnectionsPerSource, workers, queue);
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
     */
    public record Request(String method, String path, String rawQuery, Map<String, String> headers, byte[] body,
                          SocketAddress remote) {
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

        Conn(SocketChannel channel, Object source, SocketAddress remote, long deadline) {
            this.channel = channel;
            this.source = source;
            this.remote = remote;
            this.deadline = deadline;
        }
    }

    private final String name;
    private final Limits limits;
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
    private int connections;
    private final AtomicLong nextErrorLog = new AtomicLong(System.nanoTime());
    private volatile boolean open = true;

    private BoundedHttpServer(String name, ServerSocketChannel server, Limits limits, Handler handler,
                              Consumer<String> log) throws IOException {
        this.name = name;
        this.limits = limits;
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
                new ArrayBlockingQueue<>(limits.queue()), r -> daemon(r, "fedlink-" + name + "-http-worker"));
        this.loop = daemon(this::run, "fedlink-" + name + "-http");
    }

    private static Thread daemon(Runnable r, String threadName) {
        Thread t = new Thread(r, threadName);
        t.setDaemon(true);
        return t;
    }

    /**
     * Binds {@code address} (an {@link InetSocketAddress}, or a {@link UnixDomainSocketAddress} whose file must not
     * exist yet) and serves {@code handler} within {@code limits}.
     *
     * @param name    a short name for threads and log lines, e.g. {@code admin}
     * @param log     receives the rate-limited INFO lines about refusals and handler failures
     * @throws IOException when the address cannot be bound; the message names it
     */
    public static BoundedHttpServer start(String name, SocketAddress address, Limits limits, Handler handler,
                                          Consumer<String> log) throws IOException {
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
        BoundedHttpServer s = new BoundedHttpServer(name, ch, limits, handler, log);
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
                        accept();
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

    private void accept() throws IOException {
        for (SocketChannel accepted; (accepted = server.accept()) != null; ) {
            try {
                admit(accepted);
            } catch (IOException e) { // gone already (reset before we looked): nothing to serve, nothing to count
                if (accepted.keyFor(selector) == null) {
                    accepted.close();
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
                ch.write(encode(over.status(), "text/plain; charset=utf-8", refusalText(over), Map.of(), false));
            }
            return;
        }
        ch.register(selector, SelectionKey.OP_READ,
                new Conn(ch, source, remote, System.nanoTime() + limits.requestDeadline().toNanos()));
        connections++;
        perSource.put(source, fromSource + 1);
    }

    private void read(SelectionKey k, Conn c) throws IOException {
        int n;
        try {
            n = c.channel.read(c.in);
        } catch (IOException e) {
            n = -1;
        }
        if (n < 0) {
            close(k, c);
            return;
        }
        Refusal bad = c.headerEnd < 0 ? parseHead(c) : null;
        if (bad == null && c.headerEnd >= 0 && c.in.position() >= c.headerEnd + c.bodyLength) {
            dispatch(k, c);
        } else if (bad != null) {
            k.interestOps(0);
            startWriting(c, encode(bad.status(), "text/plain; charset=utf-8", refusalText(bad), Map.of(), false), bad);
        } else if (!c.in.hasRemaining()) {
            int want = c.headerEnd >= 0 ? c.headerEnd + c.bodyLength : limits.maxHeaderBytes();
            c.in = ByteBuffer.allocate(Math.min(Math.max(c.in.capacity() * 2, 1024), want))
                    .put(c.in.flip());
        }
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
        Request full = new Request(r.method(), r.path(), r.rawQuery(), r.headers(), body, r.remote());
        c.in = null;
        c.working = true;
        try {
            workers.execute(() -> work(c, full));
        } catch (RejectedExecutionException e) {
            c.working = false;
            startWriting(c, encode(503, "text/plain; charset=utf-8", refusalText(Refusal.OVERLOADED), Map.of(),
                    false), Refusal.OVERLOADED);
        }
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
        c.deadline = System.nanoTime() + limits.requestDeadline().toNanos();
        SelectionKey k = c.channel.keyFor(selector);
        if (k != null && k.isValid()) {
            k.interestOps(SelectionKey.OP_WRITE);
            write(k, c);
        }
    }

    private void write(SelectionKey k, Conn c) {
        try {
            c.channel.write(c.answer);
            if (c.answer.hasRemaining()) {
                return;
            }
            c.channel.shutdownOutput();
        } catch (IOException e) {
            // the client left: nothing more to say
        }
        close(k, c);
    }

    private void sweep(long now) {
        for (SelectionKey k : selector.keys()) {
            if (k.attachment() instanceof Conn c && k.isValid() && !c.working && now - c.deadline >= 0) {
                if (c.answer == null) { // still reading: answered 408 (best effort) and closed
                    count(Refusal.REQUEST_TIMEOUT, c.remote);
                    try {
                        c.channel.write(encode(408, "text/plain; charset=utf-8",
                                refusalText(Refusal.REQUEST_TIMEOUT), Map.of(), false));
                    } catch (IOException e) {
                        // closed below anyway
                    }
                }
                close(k, c);
            }
        }
    }

    private void close(SelectionKey k, Conn c) {
        k.cancel();
        try {
            c.channel.close();
        } catch (IOException e) {
            // closed anyway
        }
        connections--;
        perSource.computeIfPresent(c.source, (s, n) -> n > 1 ? n - 1 : null);
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

    private String refusalText(Refusal why) {
        return switch (why) {
            case PER_SOURCE_LIMIT -> "too many connections from your address (at most "
                    + limits.maxConnectionsPerSource() + "): try again later\n";
            case CONNECTION_LIMIT -> "too many connections: try again later\n";
            case OVERLOADED -> "overloaded: try again later\n";
            case REQUEST_TIMEOUT -> "request not complete within " + limits.requestDeadline().toSeconds() + " s\n";
            case REQUEST_LINE_TOO_LONG -> "request line longer than " + limits.maxRequestLineBytes() + " bytes\n";
            case HEADERS_TOO_LARGE -> "headers longer than " + limits.maxHeaderBytes() + " bytes\n";
            case BODY_TOO_LARGE -> "body longer than " + limits.maxBodyBytes() + " bytes\n";
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
