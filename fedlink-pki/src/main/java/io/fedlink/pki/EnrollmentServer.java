package io.fedlink.pki;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.fedlink.api.ClientAuth;
import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.api.TlsMaterial;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA side's HTTPS enrollment endpoint. {@code POST /v1/enroll} takes a CSR (PEM body) with
 * {@code Authorization: Bearer <token>} over server-authenticated TLS; {@code POST /v1/renew} takes a CSR over
 * mutual TLS, authorized by the client certificate. An optional {@code Fedlink-Lifetime} header (ISO-8601, e.g.
 * {@code PT1H}) asks for a shorter lifetime than the policy's maximum. The answer is the issued chain (with the
 * cross-signed new root during a CA rollover) followed by the trust bundle (the CA root; both roots during a
 * rollover's overlap) as PEM; a refusal is {@code 403} with the reason as text, a malformed request {@code 400}. Bodies above
 * 16 KiB are refused unread. TLS comes from fedlink's strict contexts (TLS 1.2+, client certificates requested and
 * verified against the CA root when presented).
 */
public final class EnrollmentServer implements AutoCloseable {
    /** The path of first enrollments. */
    public static final String ENROLL = "/v1/enroll";
    /** The path of renewals. */
    public static final String RENEW = "/v1/renew";
    /** The lifetime request header. */
    public static final String LIFETIME_HEADER = "Fedlink-Lifetime";
    static final int MAX_BODY = 16 * 1024;
    private static final Logger LOG = LoggerFactory.getLogger(EnrollmentServer.class);

    private final HttpsServer server;
    private final ExecutorService pool;
    private final EnrollmentAuthority authority;
    private final Endpoint endpoint; // null: a fixed identity given by the caller

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

    private EnrollmentServer(HttpsServer server, ExecutorService pool, EnrollmentAuthority authority,
                             Endpoint endpoint) {
        this.server = server;
        this.pool = pool;
        this.authority = authority;
        this.endpoint = endpoint;
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
        authority.refresh();
        long generation = authority.caGeneration();
        IssuedCertificate first = authority.issueEndpoint(endpointRequest, null);
        ReloadableTlsMaterial live = ReloadableTlsMaterial.of(material(first, authority));
        Endpoint e = new Endpoint(endpointRequest, first, live, generation);
        EnrollmentServer s;
        try {
            s = start(authority, live.serverContext(ClientAuth.OPTIONAL), bind, e);
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
     * give the CA root).
     */
    public static EnrollmentServer start(EnrollmentAuthority authority, TlsMaterial identity, InetSocketAddress bind)
            throws IOException {
        return start(authority, identity.serverContext(ClientAuth.OPTIONAL), bind, null);
    }

    private static EnrollmentServer start(EnrollmentAuthority authority, SSLContext tls, InetSocketAddress bind,
                                          Endpoint endpoint) throws IOException {
        HttpsServer server = HttpsServer.create(bind, 16);
        server.setHttpsConfigurator(new HttpsConfigurator(tls) {
            @Override
            public void configure(HttpsParameters params) {
                params.setSSLParameters(tls.getDefaultSSLParameters());
            }
        });
        ExecutorService pool = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "fedlink-enrollment");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(pool);
        EnrollmentServer s = new EnrollmentServer(server, pool, authority, endpoint);
        server.createContext(ENROLL, ex -> s.handle(ex, true));
        server.createContext(RENEW, ex -> s.handle(ex, false));
        server.start();
        return s;
    }

    /** The bound address. */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange ex, boolean enroll) throws IOException {
        try (ex) {
            answer(ex, enroll);
        }
    }

    private void answer(HttpExchange ex, boolean enroll) throws IOException {
        try {
            if (!"POST".equals(ex.getRequestMethod())) {
                reply(ex, 405, "use POST with a CSR (PEM) as the body\n");
                return;
            }
            String csr = body(ex);
            if (csr == null) {
                reply(ex, 413, "the request body is over " + MAX_BODY + " bytes: send one PEM CSR\n");
                return;
            }
            Duration lifetime = lifetime(ex.getRequestHeaders().getFirst(LIFETIME_HEADER));
            IssuedCertificate issued = enroll
                    ? authority.enroll(bearer(ex.getRequestHeaders().getFirst("Authorization")), csr, lifetime)
                    : authority.renew(peer(ex), csr, lifetime);
            X509Certificate leaf = issued.certificate();
            LOG.info("{} {} for {}: serial {}, until {}", enroll ? "enrolled" : "renewed",
                    leaf.getSubjectX500Principal().getName(), ex.getRemoteAddress().getAddress().getHostAddress(),
                    leaf.getSerialNumber().toString(16), leaf.getNotAfter().toInstant());
            List<X509Certificate> all = new ArrayList<>(issued.chain());
            all.addAll(authority.trustBundle()); // during a rollover both roots: parties trust the new one in time
            reply(ex, 200, Pem.encode(all));
        } catch (EnrollmentRefusedException e) {
            LOG.info("{} refused for {}: {}", enroll ? "enrollment" : "renewal",
                    ex.getRemoteAddress().getAddress().getHostAddress(), e.getMessage());
            reply(ex, 403, e.getMessage() + "\n");
        } catch (IllegalArgumentException e) {
            reply(ex, 400, e.getMessage() + "\n");
        } catch (RuntimeException e) {
            LOG.warn("enrollment request failed", e);
            reply(ex, 500, "the CA side failed to handle the request; see its log\n");
        }
    }

    private static String body(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readNBytes(MAX_BODY + 1);
            return b.length > MAX_BODY ? null : new String(b, StandardCharsets.US_ASCII);
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

    private static List<X509Certificate> peer(HttpExchange ex) {
        try {
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : ((HttpsExchange) ex).getSSLSession().getPeerCertificates()) {
                out.add((X509Certificate) c);
            }
            return out;
        } catch (SSLPeerUnverifiedException e) {
            return List.of();
        }
    }

    private static void reply(HttpExchange ex, int status, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", status == 200 ? "application/pem-certificate-chain"
                : "text/plain; charset=utf-8");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    /** Stops serving (in-flight requests are cut) and ends the worker threads. */
    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
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
