package io.fedlink.pki.enroll;

import io.fedlink.api.HostNames;
import io.fedlink.api.PartyIds;
import io.fedlink.api.PemCodec;
import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.EnrollmentRefusedException;
import io.fedlink.pki.KeyType;
import io.fedlink.pki.internal.Keys;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The party side of enrollment: makes the key pair here (it never leaves the party), sends a CSR for
 * {@code <party>.<domain>} to the CA side's {@link EnrollmentServer} and returns the new identity with the CA root
 * as its trust. The first certificate is authorized by a one-time token over server-authenticated TLS; renewals by
 * the current certificate over mutual TLS. A refusal throws {@link EnrollmentRefusedException} with the CA side's
 * reason.
 */
public final class EnrollmentClient {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private final URI server;

    /** A client of the enrollment server at {@code server} ({@code https://host:port}). */
    public EnrollmentClient(URI server) {
        this.server = Objects.requireNonNull(server, "server");
        if (!"https".equals(server.getScheme())) {
            throw new IllegalArgumentException("the enrollment server '" + server + "' must be an https:// address");
        }
    }

    /**
     * First enrollment of {@code party} under {@code domain} with a new {@code keyType} key.
     *
     * @param trust    the CA root the server's certificate must chain to (handed out with the token)
     * @param lifetime the lifetime asked for, or {@code null} for the CA's maximum
     */
    public TlsMaterial enroll(TlsMaterial trust, String token, String party, String domain, KeyType keyType,
                              Duration lifetime) throws IOException {
        KeyPair pair = keyType.generate();
        // the canonical name, as the CA issues it (CertificateRequest.party)
        String name = HostNames.canonicalDnsName(PartyIds.canonical(party) + "." + HostNames.canonicalDnsName(domain));
        HttpRequest.Builder r = request(EnrollmentServer.ENROLL, Keys.csr(pair, name), lifetime)
                .header("Authorization", "Bearer " + token.strip());
        return send(trust, r, pair);
    }

    /**
     * Renews {@code current} (its identity authenticates the request) with a new key of the same type.
     *
     * @throws EnrollmentRefusedException when the certificate has expired (checked here first) or the CA refuses
     */
    public TlsMaterial renew(TlsMaterial current, Duration lifetime) throws IOException {
        X509Certificate leaf = current.certificate();
        if (leaf == null) {
            throw new IllegalArgumentException("renewal needs the party's current identity; enroll first");
        }
        if (!Instant.now().isBefore(leaf.getNotAfter().toInstant())) {
            throw new EnrollmentRefusedException("the certificate " + leaf.getSerialNumber().toString(16)
                    + " expired at " + leaf.getNotAfter().toInstant() + ": it cannot renew; enroll again with a new "
                    + "token from the CA operator");
        }
        KeyPair pair = Keys.of(leaf.getPublicKey()).generate();
        return send(current, request(EnrollmentServer.RENEW, Keys.csr(pair, dnsName(leaf)), lifetime), pair);
    }

    /** The first DNS name of {@code leaf} (what enrollment issued), which the renewal asks for again. */
    private static String dnsName(X509Certificate leaf) throws IOException {
        try {
            if (leaf.getSubjectAlternativeNames() != null) {
                for (List<?> san : leaf.getSubjectAlternativeNames()) {
                    if ((Integer) san.get(0) == 2) {
                        return san.get(1).toString();
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new IOException("cannot read the names of certificate " + leaf.getSerialNumber().toString(16), e);
        }
        throw new IllegalArgumentException("certificate " + leaf.getSerialNumber().toString(16) + " has no DNS "
                + "name: only enrolled party certificates renew");
    }

    private HttpRequest.Builder request(String path, String csrPem, Duration lifetime) {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.resolve(path)).timeout(TIMEOUT)
                .header("Content-Type", "application/pkcs10").POST(HttpRequest.BodyPublishers.ofString(csrPem));
        if (lifetime != null) {
            b.header(EnrollmentServer.LIFETIME_HEADER, lifetime.toString());
        }
        return b;
    }

    private TlsMaterial send(TlsMaterial tls, HttpRequest.Builder request, KeyPair pair) throws IOException {
        HttpClient http = HttpClient.newBuilder().sslContext(tls.clientContext()).connectTimeout(TIMEOUT).build();
        HttpResponse<String> res;
        try {
            res = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while talking to " + server, e);
        }
        String body = res.body().strip();
        if (res.statusCode() == 403) {
            throw new EnrollmentRefusedException("the CA refused: " + body);
        }
        if (res.statusCode() != 200) {
            throw new IOException("the enrollment server " + server + " answered " + res.statusCode() + ": " + body);
        }
        List<X509Certificate> chain = new ArrayList<>();
        List<X509Certificate> roots = new ArrayList<>();
        for (X509Certificate c : PemCodec.readCertificates(body)) {
            boolean root = c.getBasicConstraints() >= 0 && c.getSubjectX500Principal().equals(c.getIssuerX500Principal());
            (root ? roots : chain).add(c);
        }
        if (chain.isEmpty() || !chain.get(0).getPublicKey().equals(pair.getPublic())) {
            throw new IOException("the enrollment server " + server + " answered with a certificate for another key");
        }
        return TlsMaterial.builder().identity(pair.getPrivate(), chain).trust(roots.isEmpty() ? tls.trustAnchors() : roots)
                .hostnameVerification(tls.hostnameVerification()).build();
    }
}
