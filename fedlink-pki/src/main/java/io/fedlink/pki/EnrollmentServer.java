package io.fedlink.pki;

import io.fedlink.api.ClientAuth;
import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.api.TlsMaterial;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA side's HTTPS enrollment endpoint. {@code POST /v1/enroll} takes a CSR (PEM body) with
 * {@code Authorization: Bearer <token>} over server-authenticated TLS; {@code POST /v1/renew} takes a CSR over
 * mutual TLS, authorized by the client certificate. An optional {@code Fedlink-Lifetime} header (ISO-8601, e.g.
 * {@code PT1H}) asks for a shorter lifetime than the policy's maximum. The answer is the issued chain (with the
 * cross-signed new root during a CA rollover) followed by the trust bundle (the CA root; both roots during a
 * rollover's overlap) as PEM; a refusal is {@code 403} with the reason as text, a malformed request {@code 400}.
 * TLS comes from fedlink's strict contexts (TLS 1.2+, client certificates requested and verified against the CA
 * root when presented).
 *
 * <p>It is a small HTTP/1.1 server of its own (one request per connection) rather than the JDK's
 * {@code HttpsServer}, whose two workers a client sending nothing, or its headers one byte at a time, held for
 * ever: each connection has one deadline for handshake, headers and body ({@link #DEFAULT_REQUEST_TIMEOUT}), after
 * which it is closed and counted ({@link #timeouts()}); headers are capped at 8 KiB, bodies at 16 KiB (refused
 * unread), and at most {@link #MAX_CONNECTIONS} connections are served at once (more are closed at once and
 * counted in {@link #refusedBusy()}).
 */
public final class EnrollmentServer implements AutoCloseable {
    /** The path of first enrollments. */
    public static final String ENROLL = "/v1/enroll";
    /** The path of renewals. */
    public static final String RENEW = "/v1/renew";
    /** The lifetime request header. */
    public static final String LIFETIME_HEADER = "Fedlink-Lifetime";
    /** How long a client has for its TLS handshake and whole request. */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    /** Connections served at once. */
    public static final int MAX_CONNECTIONS = 64;
    static final int MAX_BODY = 16 * 1024;
    static final int MAX_HEADERS = 8 * 1024;
    private static final Logger LOG = LoggerFactory.getLogger(EnrollmentServer.class);

    private final ServerSocket listener;
    private final SSLContext tls;
    private final ThreadPoolExecutor workers;
    private final ScheduledExecutorService deadlines;
    private final Thread acceptor;
    private final Duration requestTimeout;
    private final EnrollmentAuthority authority;
    private final Endpoint endpoint; // null: a fixed identity given by the caller
    private final AtomicLong timeouts = new AtomicLong();
    private final AtomicLong refusedBusy = new AtomicLong();
    private final AtomicLong lastTimeoutLog = new AtomicLong();
    private volatile boolean closed;

    /** The server's own identity when it issues it: re-issued when the CA folder rolls over or retires. */
    private static final class Endpoint {
        final CertificateRequest request;
        final ReloadableTlsMaterial live;
        final ScheduledExecutorService timer;
        volatile IssuedCertificate current;
        long seenGeneration;

        Endpoint(CertificateRequest request, IssuedCertificate first, ReloadableTlsMaterial live, long generation) {
            this.request = request;
            this.current = first;
            this.live = live;
            this.seenGeneration = generation;
            this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "fedlink-enrollment-reload");
                t.setDaemon(true);
                return t;
            });
        }
    }

    private EnrollmentServer(ServerSocket listener, SSLContext tls, EnrollmentAuthority authority, Endpoint endpoint,
                             Duration requestTimeout) {
        this.listener = listener;
        this.tls = tls;
        this.authority = authority;
        this.endpoint = endpoint;
        this.requestTimeout = requestTimeout;
        this.workers = new ThreadPoolExecutor(0, MAX_CONNECTIONS, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                daemon("fedlink-enrollment"));
        this.deadlines = Executors.newSingleThreadScheduledExecutor(daemon("fedlink-enrollment-deadlines"));
        this.acceptor = daemon("fedlink-enrollment-accept").newThread(this::acceptLoop);
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Starts serving on {@code bind} with an identity the server issues itself from the authority's CA for
     * {@code endpointRequest} (e.g. {@code CertificateRequest.server("ca.fate.org").days(30)}), trusting the CA's
     * bundle for client certificates. It follows the CA folder: after {@code fedlink pki ca rollover} or
     * {@code retire} (checked every 5 s) it issues itself a certificate of the new issuer, trusts the new bundle
     * and revokes its previous certificate as superseded; on {@link #close()} its certificate is revoked
     * (cessation of operation), so a retired root is never held back by it.
     */
    public static EnrollmentServer start(EnrollmentAuthority authority, CertificateRequest endpointRequest,
                                         InetSocketAddress bind) throws IOException {
        return start(authority, endpointRequest, bind, Duration.ofSeconds(5));
    }

    static EnrollmentServer start(EnrollmentAuthority authority, CertificateRequest endpointRequest,
                                  InetSocketAddress bind, Duration checkEvery) throws IOException {
        return start(authority, endpointRequest, bind, checkEvery, DEFAULT_REQUEST_TIMEOUT);
    }

    /**
     * Like {@link #start(EnrollmentAuthority, CertificateRequest, InetSocketAddress)}, checking the CA folder every
     * {@code checkEvery} and giving each connection {@code requestTimeout} for its handshake and request.
     */
    public static EnrollmentServer start(EnrollmentAuthority authority, CertificateRequest endpointRequest,
                                         InetSocketAddress bind, Duration checkEvery, Duration requestTimeout)
            throws IOException {
        authority.refresh();
        long generation = authority.caGeneration();
        IssuedCertificate first = authority.issueEndpoint(endpointRequest, null);
        ReloadableTlsMaterial live = ReloadableTlsMaterial.of(material(first, authority));
        Endpoint e = new Endpoint(endpointRequest, first, live, generation);
        EnrollmentServer s;
        try {
            s = start(authority, live.serverContext(ClientAuth.OPTIONAL), bind, e, requestTimeout);
        } catch (IOException | RuntimeException failure) {
            e.timer.shutdownNow();
            authority.revokeAnywhere(first.serial(), RevocationReason.CESSATION_OF_OPERATION);
            throw failure;
        }
        e.timer.scheduleWithFixedDelay(s::followCa, checkEvery.toMillis(), checkEvery.toMillis(),
                TimeUnit.MILLISECONDS);
        return s;
    }

    private static TlsMaterial material(IssuedCertificate endpointCert, EnrollmentAuthority authority)
            throws IOException {
        return TlsMaterial.builder().identity(endpointCert.privateKey(), endpointCert.chain())
                .trust(authority.trustBundle()).build();
    }

    /** When the CA folder changed (rollover, retire): a new endpoint identity from the issuing CA, new trust. */
    private void followCa() {
        try {
            authority.refresh();
            long generation = authority.caGeneration();
            if (generation == endpoint.seenGeneration) {
                return;
            }
            IssuedCertificate previous = endpoint.current;
            IssuedCertificate next = authority.issueEndpoint(endpoint.request, previous.serial());
            endpoint.live.update(material(next, authority));
            endpoint.current = next;
            endpoint.seenGeneration = generation;
            LOG.info("the CA changed: now presenting serial {} issued by {}, trusting {} root(s)",
                    next.serial().toString(16), next.certificate().getIssuerX500Principal().getName(),
                    authority.trustBundle().size());
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot follow the CA folder {}: {}; retrying", authority.caDir(), e.toString());
        }
    }

    /** How many times the server's own identity was re-issued after a change of the CA. */
    public long identityGeneration() {
        return endpoint == null ? 0 : endpoint.live.generation();
    }

    /** The certificate the server presents now (its chain's leaf). */
    public X509Certificate certificate() {
        return endpoint == null ? null : endpoint.current.certificate();
    }

    /**
     * Starts serving on {@code bind}, presenting {@code identity} (its trust anchors verify client certificates:
     * give the CA root). This identity and trust stay as given through a CA rollover; use
     * {@link #start(EnrollmentAuthority, CertificateRequest, InetSocketAddress)} to follow one.
     */
    public static EnrollmentServer start(EnrollmentAuthority authority, TlsMaterial identity, InetSocketAddress bind)
            throws IOException {
        return start(authority, identity, bind, DEFAULT_REQUEST_TIMEOUT);
    }

    static EnrollmentServer start(EnrollmentAuthority authority, TlsMaterial identity, InetSocketAddress bind,
                                  Duration requestTimeout) throws IOException {
        return start(authority, identity.serverContext(ClientAuth.OPTIONAL), bind, null, requestTimeout);
    }

    private static EnrollmentServer start(EnrollmentAuthority authority, SSLContext tls, InetSocketAddress bind,
                                          Endpoint endpoint, Duration requestTimeout) throws IOException {
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("the request timeout must be positive, was " + requestTimeout);
        }
        ServerSocket listener = new ServerSocket();
        try {
            listener.bind(bind, 128);
        } catch (IOException e) {
            listener.close();
            throw new IOException("cannot listen on " + bind + ": " + e.getMessage(), e);
        }
        EnrollmentServer s = new EnrollmentServer(listener, tls, authority, endpoint, requestTimeout);
        s.acceptor.start();
        return s;
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    /** Connections closed because handshake and request did not arrive within the request timeout. */
    public long timeouts() {
        return timeouts.get();
    }

    /** Connections closed at once because {@link #MAX_CONNECTIONS} were being served. */
    public long refusedBusy() {
        return refusedBusy.get();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket plain;
            try {
                plain = listener.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                LOG.warn("accept failed on {}: {}", listener.getLocalSocketAddress(), e.toString());
                try {
                    Thread.sleep(100); // e.g. out of file descriptors: do not spin
                } catch (InterruptedException interrupted) {
                    return;
                }
                continue;
            }
            try {
                workers.execute(() -> serve(plain));
            } catch (RejectedExecutionException busy) {
                refusedBusy.incrementAndGet();
                closeQuietly(plain);
            }
        }
    }

    /** An HTTP refusal of a malformed request: status and text. */
    private static final class BadRequest extends Exception {
        final int status;

        BadRequest(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** One request as read. */
    private record Request(String method, String path, Map<String, String> headers, String body,
                           List<X509Certificate> peer, String remote) {}

    private void serve(Socket plain) {
        String remote = plain.getInetAddress().getHostAddress();
        AtomicBoolean settled = new AtomicBoolean();
        ScheduledFuture<?> deadline = deadlines.schedule(() -> {
            if (settled.compareAndSet(false, true)) {
                timedOut(remote);
                closeQuietly(plain); // a read blocked in the handshake or the headers ends here
            }
        }, requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
        try (plain) {
            // the deadline acts first; the read timeout is the backstop should the deadline thread be late
            plain.setSoTimeout((int) Math.min(Integer.MAX_VALUE, requestTimeout.toMillis() + 1000));
            SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(plain, null, true);
            socket.startHandshake();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            String status;
            byte[] body;
            String type = "text/plain; charset=utf-8";
            int code;
            try {
                Request r = read(in, socket, remote);
                if (!settled.compareAndSet(false, true)) {
                    return; // timed out meanwhile
                }
                deadline.cancel(false);
                String[] answer = answer(r);
                code = Integer.parseInt(answer[0]);
                type = answer[1];
                body = answer[2].getBytes(StandardCharsets.UTF_8);
            } catch (BadRequest e) {
                if (!settled.compareAndSet(false, true)) {
                    return;
                }
                deadline.cancel(false);
                code = e.status;
                body = (e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8);
            }
            status = switch (code) {
                case 200 -> "OK";
                case 400 -> "Bad Request";
                case 403 -> "Forbidden";
                case 404 -> "Not Found";
                case 405 -> "Method Not Allowed";
                case 411 -> "Length Required";
                case 413 -> "Content Too Large";
                case 431 -> "Request Header Fields Too Large";
                default -> "Internal Server Error";
            };
            OutputStream out = socket.getOutputStream();
            out.write(("HTTP/1.1 " + code + " " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: "
                    + body.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            socket.close();
        } catch (SocketTimeoutException e) {
            if (settled.compareAndSet(false, true)) {
                timedOut(remote);
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("connection from {} failed: {}", remote, e.toString());
        } finally {
            deadline.cancel(false);
        }
    }

    /** Counts a connection cut for sending no complete request in time; logs at most one line a second. */
    private void timedOut(String remote) {
        long count = timeouts.incrementAndGet();
        long now = System.nanoTime();
        long last = lastTimeoutLog.get();
        if ((last == 0 || now - last > TimeUnit.SECONDS.toNanos(1)) && lastTimeoutLog.compareAndSet(last, now)) {
            LOG.info("closed a connection from {} that sent no complete request within {} ms ({} so far)", remote,
                    requestTimeout.toMillis(), count);
        }
    }

    private static Request read(InputStream in, SSLSocket socket, String remote) throws IOException, BadRequest {
        int[] budget = {MAX_HEADERS};
        String line = line(in, budget);
        String[] parts = line.split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
            throw new BadRequest(400, "malformed request line: send 'POST /v1/enroll HTTP/1.1'");
        }
        Map<String, String> headers = new HashMap<>();
        for (String h = line(in, budget); !h.isEmpty(); h = line(in, budget)) {
            int colon = h.indexOf(':');
            if (colon <= 0) {
                throw new BadRequest(400, "malformed header line");
            }
            headers.putIfAbsent(h.substring(0, colon).strip().toLowerCase(Locale.ROOT), h.substring(colon + 1).strip());
        }
        String path = parts[1].contains("?") ? parts[1].substring(0, parts[1].indexOf('?')) : parts[1];
        if (!path.equals(ENROLL) && !path.equals(RENEW)) {
            throw new BadRequest(404, "unknown path '" + path + "': use " + ENROLL + " or " + RENEW);
        }
        if (!"POST".equals(parts[0])) {
            throw new BadRequest(405, "use POST with a CSR (PEM) as the body");
        }
        if (headers.containsKey("transfer-encoding")) {
            throw new BadRequest(411, "chunked bodies are not accepted: send the CSR with a Content-Length");
        }
        long length;
        try {
            length = Long.parseLong(headers.getOrDefault("content-length", "-1"));
        } catch (NumberFormatException e) {
            throw new BadRequest(400, "bad Content-Length");
        }
        if (length < 0) {
            throw new BadRequest(411, "send the CSR with a Content-Length");
        }
        if (length > MAX_BODY) {
            throw new BadRequest(413, "the request body is over " + MAX_BODY + " bytes: send one PEM CSR");
        }
        byte[] body = in.readNBytes((int) length);
        if (body.length != length) {
            throw new IOException("the client closed before sending its whole body");
        }
        List<X509Certificate> peer = new ArrayList<>();
        try {
            for (Certificate c : socket.getSession().getPeerCertificates()) {
                peer.add((X509Certificate) c);
            }
        } catch (SSLPeerUnverifiedException none) {
            // no client certificate: a first enrollment
        }
        return new Request(parts[0], path, headers, new String(body, StandardCharsets.US_ASCII), peer, remote);
    }

    /** One header line (CRLF or LF ended), within what is left of the header budget. */
    private static String line(InputStream in, int[] budget) throws IOException, BadRequest {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the client closed in the middle of its request");
            }
            if (--budget[0] < 0) {
                throw new BadRequest(431, "the request headers are over " + MAX_HEADERS + " bytes");
            }
            if (b == '\n') {
                int n = sb.length();
                return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
            }
            sb.append((char) b);
        }
    }

    /** Status, content type and text of the answer to {@code r}. */
    private String[] answer(Request r) {
        boolean enroll = r.path().equals(ENROLL);
        try {
            Duration lifetime = lifetime(r.headers().get(LIFETIME_HEADER.toLowerCase(Locale.ROOT)));
            IssuedCertificate issued = enroll
                    ? authority.enroll(bearer(r.headers().get("authorization")), r.body(), lifetime)
                    : authority.renew(r.peer(), r.body(), lifetime);
            X509Certificate leaf = issued.certificate();
            LOG.info("{} {} for {}: serial {}, key {}, until {}", enroll ? "enrolled" : "renewed",
                    leaf.getSubjectX500Principal().getName(), r.remote(), leaf.getSerialNumber().toString(16),
                    KeyType.describe(leaf.getPublicKey()), leaf.getNotAfter().toInstant());
            List<X509Certificate> all = new ArrayList<>(issued.chain());
            all.addAll(authority.trustBundle()); // during a rollover both roots: parties trust the new one in time
            return new String[] {"200", "application/pem-certificate-chain", Pem.encode(all)};
        } catch (EnrollmentRefusedException e) {
            LOG.info("{} refused for {}: {}", enroll ? "enrollment" : "renewal", r.remote(), e.getMessage());
            return new String[] {"403", "text/plain; charset=utf-8", e.getMessage() + "\n"};
        } catch (IllegalArgumentException e) {
            return new String[] {"400", "text/plain; charset=utf-8", e.getMessage() + "\n"};
        } catch (IOException | RuntimeException e) {
            LOG.warn("enrollment request failed", e);
            return new String[] {"500", "text/plain; charset=utf-8", "the CA side failed to handle the request; see "
                    + "its log\n"};
        }
    }

    private static Duration lifetime(String header) {
        try {
            return header == null ? null : Duration.parse(header.strip());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("bad " + LIFETIME_HEADER + " '" + header + "': use ISO-8601 like PT1H");
        }
    }

    private static String bearer(String header) {
        return header != null && header.startsWith("Bearer ") ? header.substring(7) : null;
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** Stops serving (in-flight requests are cut) and ends the threads; a second call does nothing. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        workers.shutdownNow();
        deadlines.shutdownNow();
        try {
            acceptor.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (endpoint != null) {
            endpoint.timer.shutdownNow();
            try {
                authority.revokeAnywhere(endpoint.current.serial(), RevocationReason.CESSATION_OF_OPERATION);
            } catch (IOException | RuntimeException e) {
                LOG.warn("cannot revoke the endpoint certificate {} at shutdown: {}",
                        endpoint.current.serial().toString(16), e.toString());
            }
        }
    }
}
