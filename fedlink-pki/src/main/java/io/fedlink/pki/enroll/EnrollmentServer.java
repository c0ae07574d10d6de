package io.fedlink.pki.enroll;

import io.fedlink.api.BoundedHttpServer;
import io.fedlink.api.BoundedHttpServer.Refusal;
import io.fedlink.api.BoundedHttpServer.Request;
import io.fedlink.api.BoundedHttpServer.Response;
import io.fedlink.api.ClientAuth;
import io.fedlink.api.PemCodec;
import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.EnrollmentAuthority;
import io.fedlink.pki.EnrollmentRefusedException;
import io.fedlink.pki.IssuedCertificate;
import io.fedlink.pki.RevocationReason;
import io.fedlink.pki.internal.EnrollmentAccess;
import io.fedlink.pki.internal.Keys;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
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
 * <p>It runs on fedlink's one control-plane HTTP server ({@link BoundedHttpServer} with its TLS stage: one NIO
 * thread for TLS and request reading, a small worker pool for the CA's work), so a client that sends nothing, or
 * its hello or headers one byte at a time, holds a socket but never a thread. Its {@link Limits}: connections per source address
 * (default 8) and in all, deadlines for the handshake, the end of the headers and the body, request line, header
 * and body sizes (414/431/413), and the worker queue (full: 503). Every refusal is closed cleanly, counted
 * ({@link #refusals()}) and logged at INFO, at most one line a second.
 */
public final class EnrollmentServer implements AutoCloseable {
    /** The path of first enrollments. */
    public static final String ENROLL = "/v1/enroll";
    /** The path of renewals. */
    public static final String RENEW = "/v1/renew";
    /** The lifetime request header. */
    public static final String LIFETIME_HEADER = "Fedlink-Lifetime";
    /** How long a client has from its connect to the end of its request headers. */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final Logger LOG = LoggerFactory.getLogger(EnrollmentServer.class);

    private static final String TEXT = "text/plain; charset=utf-8";

    private final BoundedHttpServer listener;
    private final EnrollmentAuthority authority;
    private final EnrollmentAccess.View view;
    private final Endpoint endpoint; // null: a fixed identity given by the caller
    private volatile boolean closed;

    /**
     * What one client may hold of the server: connections per source address and in all, worker threads and queued
     * requests, deadlines for the TLS handshake, the headers and the body, and request line, header and body sizes.
     * {@link #DEFAULT}, or {@link #of} with an operator's values; every value is checked, an error names it.
     */
    public static final class Limits {
        /** 8 per address, 512 in all, 4 workers and 32 queued; 5 s handshake, 10 s headers, 10 s body. */
        public static final Limits DEFAULT = new Limits(8, 512, 4, 32, Duration.ofSeconds(5),
                DEFAULT_REQUEST_TIMEOUT, Duration.ofSeconds(10), 2048, 8 * 1024, 16 * 1024);

        private final int maxPerAddress;
        private final int maxConnections;
        private final int workers;
        private final int queue;
        private final Duration handshakeTimeout;
        private final Duration headerTimeout;
        private final Duration bodyTimeout;
        private final int maxRequestLine;
        private final int maxHeaders;
        private final int maxBody;

        /**
         * Checks every value; an error names it.
         *
         * @param maxPerAddress    connections open at once from one source address (more are closed at accept)
         * @param maxConnections   connections open at once in all
         * @param workers          threads doing the CA's work for complete requests
         * @param queue            complete requests waiting for a worker (more are answered 503)
         * @param handshakeTimeout from the connect to the end of the TLS handshake
         * @param headerTimeout    from the connect to the end of the request headers
         * @param bodyTimeout      from the end of the headers to the end of the body; also for the answer to be read
         * @param maxRequestLine   bytes of the request line (over: 414)
         * @param maxHeaders       bytes of the request line and headers (over: 431)
         * @param maxBody          bytes of the body (over: 413, unread)
         */
        Limits(int maxPerAddress, int maxConnections, int workers, int queue, Duration handshakeTimeout,
               Duration headerTimeout, Duration bodyTimeout, int maxRequestLine, int maxHeaders, int maxBody) {
            positive("connections per address", maxPerAddress);
            positive("connections in all", maxConnections);
            positive("workers", workers);
            if (queue < 0) {
                throw new IllegalArgumentException("the worker queue must be 0 or more, was " + queue);
            }
            for (Duration d : List.of(handshakeTimeout, headerTimeout, bodyTimeout)) {
                if (d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("the request timeout must be positive, was " + d);
                }
            }
            positive("request line bytes", maxRequestLine);
            positive("header bytes", maxHeaders);
            positive("body bytes", maxBody);
            this.maxPerAddress = maxPerAddress;
            this.maxConnections = maxConnections;
            this.workers = workers;
            this.queue = queue;
            this.handshakeTimeout = handshakeTimeout;
            this.headerTimeout = headerTimeout;
            this.bodyTimeout = bodyTimeout;
            this.maxRequestLine = maxRequestLine;
            this.maxHeaders = maxHeaders;
            this.maxBody = maxBody;
        }

        private static void positive(String what, int value) {
            if (value <= 0) {
                throw new IllegalArgumentException("the limit of " + what + " must be positive, was " + value
                        + ": give 1 or more");
            }
        }

        /**
         * The default limits with an operator's values (what {@code fedlink pki serve}'s options set); up to eight
         * complete requests per worker wait for one, and the size limits are the defaults.
         *
         * @param perAddress connections open at once from one source address (more are closed at accept)
         * @param total      connections open at once in all
         * @param workers    threads doing the CA's work for complete requests
         * @param handshake  from the connect to the end of the TLS handshake
         * @param headers    from the connect to the end of the request headers
         * @param body       from the end of the headers to the end of the body; also for the answer to be read
         * @throws IllegalArgumentException naming the first value that is not positive
         */
        public static Limits of(int perAddress, int total, int workers, Duration handshake, Duration headers,
                                Duration body) {
            return DEFAULT.withConnections(perAddress, total).withWorkers(workers, workers * 8)
                    .withTimeouts(handshake, headers, body);
        }

        /** These limits with {@code perAddress} connections per source address and {@code total} in all. */
        Limits withConnections(int perAddress, int total) {
            return new Limits(perAddress, total, workers, queue, handshakeTimeout, headerTimeout, bodyTimeout,
                    maxRequestLine, maxHeaders, maxBody);
        }

        /** These limits with {@code count} workers and {@code waiting} queued requests. */
        Limits withWorkers(int count, int waiting) {
            return new Limits(maxPerAddress, maxConnections, count, waiting, handshakeTimeout, headerTimeout,
                    bodyTimeout, maxRequestLine, maxHeaders, maxBody);
        }

        /**
         * These limits with the three deadlines: from the connect to the end of the TLS handshake, from the connect
         * to the end of the request headers, and from the end of the headers to the end of the body (also for the
         * answer to be read).
         */
        Limits withTimeouts(Duration handshake, Duration headers, Duration body) {
            return new Limits(maxPerAddress, maxConnections, workers, queue, handshake, headers, body,
                    maxRequestLine, maxHeaders, maxBody);
        }

        /** One deadline for the handshake (at most its current one), the headers and the body. */
        Limits withRequestTimeout(Duration timeout) {
            Duration handshake = handshakeTimeout.compareTo(timeout) < 0 ? handshakeTimeout : timeout;
            return withTimeouts(handshake, timeout, timeout);
        }

        int maxPerAddress() {
            return maxPerAddress;
        }

        int maxConnections() {
            return maxConnections;
        }

        int workers() {
            return workers;
        }

        int queue() {
            return queue;
        }

        Duration handshakeTimeout() {
            return handshakeTimeout;
        }

        Duration headerTimeout() {
            return headerTimeout;
        }

        Duration bodyTimeout() {
            return bodyTimeout;
        }

        int maxRequestLine() {
            return maxRequestLine;
        }

        int maxHeaders() {
            return maxHeaders;
        }

        int maxBody() {
            return maxBody;
        }
    }

    /**
     * Connections refused or cut so far, by reason; {@link #toString()} is the summary {@code fedlink pki serve}
     * prints, and two summaries are equal when every count is.
     */
    public static final class Refusals {
        private final long perAddress;
        private final long busy;
        private final long overloaded;
        private final long oversized;
        private final long timeouts;

        /**
         * @param perAddress closed at accept: the connections per source address were open
         * @param busy       closed at accept: the connections in all were open
         * @param overloaded answered 503: every worker busy and the queue full
         * @param oversized  answered 414, 431 or 413
         * @param timeouts   closed at a deadline (handshake, headers, body, answer not read)
         */
        Refusals(long perAddress, long busy, long overloaded, long oversized, long timeouts) {
            this.perAddress = perAddress;
            this.busy = busy;
            this.overloaded = overloaded;
            this.oversized = oversized;
            this.timeouts = timeouts;
        }

        long perAddress() {
            return perAddress;
        }

        long busy() {
            return busy;
        }

        long overloaded() {
            return overloaded;
        }

        long oversized() {
            return oversized;
        }

        long timeouts() {
            return timeouts;
        }

        /** All of them. */
        long total() {
            return perAddress + busy + overloaded + oversized + timeouts;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Refusals r && r.perAddress == perAddress && r.busy == busy
                    && r.overloaded == overloaded && r.oversized == oversized && r.timeouts == timeouts;
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(perAddress, busy, overloaded, oversized, timeouts);
        }

        @Override
        public String toString() {
            return "per-address cap " + perAddress + ", server full " + busy + ", workers busy (503) " + overloaded
                    + ", oversized " + oversized + ", timed out " + timeouts;
        }
    }

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

    private EnrollmentServer(EnrollmentAuthority authority, Endpoint endpoint, SSLContext tls,
                             InetSocketAddress bind, Limits limits) throws IOException {
        this.authority = authority;
        this.view = EnrollmentAccess.of(authority);
        this.endpoint = endpoint;
        this.listener = BoundedHttpServer.start("enrollment", bind, httpLimits(limits),
                new BoundedHttpServer.Tls(tls, ClientAuth.OPTIONAL, limits.handshakeTimeout()), this::answer,
                LOG::info);
    }

    /** The shared server's limits for these: the headers' deadline from the accept, the body's from the headers. */
    private static BoundedHttpServer.Limits httpLimits(Limits l) {
        return new BoundedHttpServer.Limits(l.maxRequestLine(), Math.max(l.maxHeaders(), l.maxRequestLine()),
                l.maxBody(), l.headerTimeout(), l.bodyTimeout(), l.maxConnections(), l.maxPerAddress(), l.workers(),
                l.queue());
    }

    /**
     * Starts serving on {@code bind} with an identity the server issues itself from the authority's CA for
     * {@code endpointRequest} (e.g. {@code CertificateRequest.server("ca.fate.org").days(30)}), trusting the CA's
     * bundle for client certificates. It follows the CA folder: after {@code fedlink pki ca rollover} or
     * {@code retire} (checked every 5 s) it issues itself a certificate of the new issuer, trusts the new bundle
     * and revokes its previous certificate as superseded; on {@link #close()} its certificate is revoked
     * (cessation of operation), so a retired root is never held back by it. {@code limits} bound what clients may
     * hold ({@link Limits#DEFAULT} and its changes).
     */
    public static EnrollmentServer start(EnrollmentAuthority authority, CertificateRequest endpointRequest,
                                         InetSocketAddress bind, Limits limits) throws IOException {
        return start(authority, endpointRequest, bind, Duration.ofSeconds(5), limits);
    }

    static EnrollmentServer start(EnrollmentAuthority authority, CertificateRequest endpointRequest,
                                  InetSocketAddress bind, Duration checkEvery) throws IOException {
        return start(authority, endpointRequest, bind, checkEvery, Limits.DEFAULT);
    }

    /**
     * Like {@link #start(EnrollmentAuthority, CertificateRequest, InetSocketAddress)}, checking the CA folder every
     * {@code checkEvery} and giving each connection {@code requestTimeout} to the end of its request (and for the
     * handshake, at most the default's 5 s).
     */
    static EnrollmentServer start(EnrollmentAuthority authority, CertificateRequest endpointRequest,
                                         InetSocketAddress bind, Duration checkEvery, Duration requestTimeout)
            throws IOException {
        return start(authority, endpointRequest, bind, checkEvery, Limits.DEFAULT.withRequestTimeout(requestTimeout));
    }

    /** Like {@link #start(EnrollmentAuthority, CertificateRequest, InetSocketAddress, Limits)}, checking the CA
     * folder every {@code checkEvery}. */
    static EnrollmentServer start(EnrollmentAuthority authority, CertificateRequest endpointRequest,
                                         InetSocketAddress bind, Duration checkEvery, Limits limits)
            throws IOException {
        EnrollmentAccess.View view = EnrollmentAccess.of(authority);
        view.refresh();
        long generation = view.caGeneration();
        IssuedCertificate first = view.issueEndpoint(endpointRequest, null);
        ReloadableTlsMaterial live = ReloadableTlsMaterial.of(material(first, view));
        Endpoint e = new Endpoint(endpointRequest, first, live, generation);
        EnrollmentServer s;
        try {
            s = new EnrollmentServer(authority, e, live.serverContext(ClientAuth.OPTIONAL), bind, limits);
        } catch (IOException | RuntimeException failure) {
            e.timer.shutdownNow();
            view.revokeAnywhere(first.certificate().getSerialNumber(), RevocationReason.CESSATION_OF_OPERATION);
            throw failure;
        }
        e.timer.scheduleWithFixedDelay(s::followCa, checkEvery.toMillis(), checkEvery.toMillis(),
                TimeUnit.MILLISECONDS);
        return s;
    }

    private static TlsMaterial material(IssuedCertificate endpointCert, EnrollmentAccess.View view)
            throws IOException {
        return TlsMaterial.builder().identity(endpointCert.privateKey(), endpointCert.chain())
                .trust(view.trustBundle()).build();
    }

    /** When the CA folder changed (rollover, retire): a new endpoint identity from the issuing CA, new trust. */
    private void followCa() {
        try {
            view.refresh();
            long generation = view.caGeneration();
            if (generation == endpoint.seenGeneration) {
                return;
            }
            IssuedCertificate previous = endpoint.current;
            IssuedCertificate next = view.issueEndpoint(endpoint.request, previous.certificate().getSerialNumber());
            endpoint.live.update(material(next, view));
            endpoint.current = next;
            endpoint.seenGeneration = generation;
            LOG.info("the CA changed: now presenting serial {} issued by {}, trusting {} root(s)",
                    next.certificate().getSerialNumber().toString(16),
                    next.certificate().getIssuerX500Principal().getName(), view.trustBundle().size());
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot follow the CA folder {}: {}; retrying", view.caDir(), e.toString());
        }
    }

    /** How many times the server's own identity was re-issued after a change of the CA. */
    long identityGeneration() {
        return endpoint == null ? 0 : endpoint.live.generation();
    }

    /** The certificate the server presents now (its chain's leaf). */
    X509Certificate certificate() {
        return endpoint == null ? null : endpoint.current.certificate();
    }

    /**
     * Starts serving on {@code bind}, presenting {@code identity} (its trust anchors verify client certificates:
     * give the CA root). This identity and trust stay as given through a CA rollover; use
     * {@link #start(EnrollmentAuthority, CertificateRequest, InetSocketAddress)} to follow one.
     */
    static EnrollmentServer start(EnrollmentAuthority authority, TlsMaterial identity, InetSocketAddress bind)
            throws IOException {
        return start(authority, identity, bind, Limits.DEFAULT);
    }

    static EnrollmentServer start(EnrollmentAuthority authority, TlsMaterial identity, InetSocketAddress bind,
                                  Duration requestTimeout) throws IOException {
        return start(authority, identity, bind, Limits.DEFAULT.withRequestTimeout(requestTimeout));
    }

    /** Like {@link #start(EnrollmentAuthority, TlsMaterial, InetSocketAddress)}, with {@code limits}. */
    static EnrollmentServer start(EnrollmentAuthority authority, TlsMaterial identity, InetSocketAddress bind,
                                  Limits limits) throws IOException {
        return new EnrollmentServer(authority, null, identity.serverContext(ClientAuth.OPTIONAL), bind, limits);
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.address();
    }

    /** Connections refused or cut so far, by reason (what {@code fedlink pki serve} reports). */
    public Refusals refusals() {
        return new Refusals(listener.refused(Refusal.PER_SOURCE_LIMIT), listener.refused(Refusal.CONNECTION_LIMIT),
                listener.refused(Refusal.OVERLOADED), listener.refused(Refusal.REQUEST_LINE_TOO_LONG)
                + listener.refused(Refusal.HEADERS_TOO_LARGE) + listener.refused(Refusal.BODY_TOO_LARGE),
                listener.refused(Refusal.REQUEST_TIMEOUT) + listener.refused(Refusal.HANDSHAKE_TIMEOUT));
    }

    /** Connections closed at a deadline (handshake, headers, body, answer not read). */
    long timeouts() {
        return refusals().timeouts();
    }

    /** Connections closed at accept because {@link Limits#maxConnections()} were open. */
    long refusedBusy() {
        return refusals().busy();
    }

    int openConnections() {
        return listener.openConnections();
    }

    int busyWorkers() {
        return listener.busyWorkers();
    }

    /** The answer to a complete request (on a worker). */
    private Response answer(Request r) {
        String path = r.path();
        if (!path.equals(ENROLL) && !path.equals(RENEW)) {
            return text(404, "unknown path '" + path + "': use " + ENROLL + " or " + RENEW);
        }
        if (!"POST".equals(r.method())) {
            return text(405, "use POST with a CSR (PEM) as the body");
        }
        if (r.header("content-length") == null) {
            return text(411, "send the CSR with a Content-Length");
        }
        String remote = BoundedHttpServer.describe(r.remote());
        boolean enroll = path.equals(ENROLL);
        String csr = new String(r.body(), StandardCharsets.US_ASCII);
        try {
            Duration lifetime = lifetime(r.header(LIFETIME_HEADER));
            IssuedCertificate issued = enroll
                    ? authority.enroll(bearer(r.header("authorization")), csr, lifetime)
                    : authority.renew(r.clientCertificates(), csr, lifetime);
            X509Certificate leaf = issued.certificate();
            LOG.info("{} {} for {}: serial {}, key {}, until {}", enroll ? "enrolled" : "renewed",
                    leaf.getSubjectX500Principal().getName(), remote, leaf.getSerialNumber().toString(16),
                    Keys.describe(leaf.getPublicKey()), leaf.getNotAfter().toInstant());
            List<X509Certificate> all = new ArrayList<>(issued.chain());
            all.addAll(view.trustBundle()); // during a rollover both roots: parties trust the new one in time
            return Response.of(200, "application/pem-certificate-chain", PemCodec.certificates(all));
        } catch (EnrollmentRefusedException e) {
            LOG.info("{} refused for {}: {}", enroll ? "enrollment" : "renewal", remote, e.getMessage());
            return text(403, e.getMessage());
        } catch (IllegalArgumentException e) {
            return text(400, e.getMessage());
        } catch (IOException | RuntimeException e) {
            LOG.warn("enrollment request failed", e);
            return text(500, "the CA side failed to handle the request; see its log");
        }
    }

    private static Response text(int status, String message) {
        return Response.of(status, TEXT, message + "\n");
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

    /** Stops serving (in-flight requests are cut) and ends the threads; a second call does nothing. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        listener.close();
        if (endpoint != null) {
            endpoint.timer.shutdownNow();
            try {
                view.revokeAnywhere(endpoint.current.certificate().getSerialNumber(),
                        RevocationReason.CESSATION_OF_OPERATION);
            } catch (IOException | RuntimeException e) {
                LOG.warn("cannot revoke the endpoint certificate {} at shutdown: {}",
                        endpoint.current.certificate().getSerialNumber().toString(16), e.toString());
            }
        }
    }
}
