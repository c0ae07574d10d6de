package io.fedlink.pki;

import io.fedlink.api.FileSet;
import io.fedlink.api.PartyIds;
import io.fedlink.pki.CertificateAuthority.IndexEntry;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The CA side of enrollment: signs a party's CSR only when the request is authorized, either by a one-time
 * enrollment token bound to the party (its first certificate) or by the party's current certificate, issued here,
 * still valid and not revoked (a renewal), and only within the {@link EnrollmentPolicy}. Every refusal throws an
 * {@link EnrollmentRefusedException} naming the reason and what to do, and issues nothing: the CA index and the
 * token file are unchanged. An accepted request is recorded as one unit: the certificate's serial in
 * {@code index.tsv} and the token marked used in {@code enrollment-tokens.tsv}.
 *
 * <p>The tokens file and the CA index are re-read at each request, so {@code fedlink pki token create} and
 * {@code fedlink pki revoke} work while a server runs (a revocation made there refuses the next renewal).
 * Thread-safe (one request at a time).
 */
public final class EnrollmentAuthority {
    private final CertificateAuthority ca;
    private final Path caDir;
    private final EnrollmentPolicy policy;
    private final Clock clock;
    private final AtomicLong refusals = new AtomicLong();

    /** Enrolls for {@code ca}, whose folder is {@code caDir}, under {@code policy}. */
    public EnrollmentAuthority(CertificateAuthority ca, Path caDir, EnrollmentPolicy policy) {
        this(ca, caDir, policy, Clock.systemUTC());
    }

    EnrollmentAuthority(CertificateAuthority ca, Path caDir, EnrollmentPolicy policy, Clock clock) {
        this.ca = Objects.requireNonNull(ca, "ca");
        this.caDir = Objects.requireNonNull(caDir, "caDir");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.clock = clock;
    }

    /** The CA. */
    public CertificateAuthority ca() {
        return ca;
    }

    /** The policy. */
    public EnrollmentPolicy policy() {
        return policy;
    }

    /** How many requests were refused since start. */
    public long refusals() {
        return refusals.get();
    }

    /**
     * Creates a one-time token for {@code party}, valid for {@code ttl}, in the CA folder {@code caDir}; returns the
     * token text, which is stored only hashed: hand it to the party once (a 0600 file), never on a command line.
     */
    public static String createToken(Path caDir, String party, Duration ttl) throws IOException {
        if (!PartyIds.isValid(party)) {
            throw new IllegalArgumentException("invalid party id '" + party + "': " + PartyIds.RULE);
        }
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("the token lifetime must be positive, was " + ttl);
        }
        synchronized (EnrollmentAuthority.class) {
            EnrollmentTokens tokens = EnrollmentTokens.read(caDir);
            String token = tokens.create(party, Instant.now().plus(ttl));
            new FileSet().add(caDir.resolve(EnrollmentTokens.FILE), tokens.text(), true).commit(FileSet.NOTHING);
            return token;
        }
    }

    /**
     * A party's first certificate: {@code token} must be unused, unexpired and bound to the party the CSR names.
     *
     * @param lifetime the validity asked for; {@code null} for the policy's maximum
     * @throws EnrollmentRefusedException naming the reason; nothing is issued
     */
    public IssuedCertificate enroll(String token, String csrPem, Duration lifetime) throws IOException {
        synchronized (EnrollmentAuthority.class) {
            Instant now = clock.instant();
            refreshIndex();
            EnrollmentTokens tokens = EnrollmentTokens.read(caDir);
            EnrollmentTokens.Entry entry = token == null || token.isBlank() ? null : tokens.find(token);
            if (entry == null) {
                throw refuse("the enrollment token is not known to this CA: check the token file, or ask the CA "
                        + "operator for a new one ('fedlink pki token create --party ID')");
            }
            if (entry.usedAt() != null) {
                throw refuse("the enrollment token of party " + entry.party() + " was already used at "
                        + entry.usedAt() + ": tokens are one-time; ask the CA operator for a new one");
            }
            if (!now.isBefore(entry.expiresAt())) {
                throw refuse("the enrollment token of party " + entry.party() + " expired at " + entry.expiresAt()
                        + ": ask the CA operator for a new one");
            }
            CsrIntake.Intake intake = check(entry.party(), csrPem, lifetime, now);
            tokens.markUsed(entry, now);
            return issue(intake, tokens);
        }
    }

    /**
     * A renewal: {@code presented} (leaf first, as the party showed it in the TLS handshake) must be issued by this
     * CA, in its index, not revoked and not expired; the CSR may name only the same party.
     *
     * @throws EnrollmentRefusedException naming the reason; nothing is issued
     */
    public IssuedCertificate renew(List<X509Certificate> presented, String csrPem, Duration lifetime)
            throws IOException {
        synchronized (EnrollmentAuthority.class) {
            Instant now = clock.instant();
            refreshIndex();
            if (presented == null || presented.isEmpty()) {
                throw refuse("a renewal needs the party's current certificate (mutual TLS): present it, or enroll "
                        + "with a token");
            }
            X509Certificate leaf = presented.get(0);
            String serial = leaf.getSerialNumber().toString(16);
            try {
                leaf.verify(ca.certificate().getPublicKey());
            } catch (GeneralSecurityException e) {
                throw refuse("certificate " + serial + " was not issued by this CA: renew with a certificate of "
                        + "this CA, or enroll with a token");
            }
            IndexEntry e = entry(leaf.getSerialNumber());
            if (e == null) {
                throw refuse("certificate " + serial + " is not in this CA's index: enroll with a token");
            }
            if (e.revoked()) {
                throw refuse("certificate " + serial + " was revoked at " + e.revokedAt() + " (" + e.reason()
                        + "): a revoked party cannot renew; ask the CA operator for a new enrollment token");
            }
            if (!now.isBefore(leaf.getNotAfter().toInstant())) {
                throw refuse("certificate " + serial + " expired at " + leaf.getNotAfter().toInstant()
                        + ": renewal needs a still-valid certificate; enroll again with a token");
            }
            String party = partyOf(leaf);
            return issue(check(party, csrPem, lifetime, now), null);
        }
    }

    /** Picks up what other commands recorded meanwhile (a revocation by 'fedlink pki revoke', other issues). */
    private void refreshIndex() throws IOException {
        Path index = caDir.resolve(CaFolder.INDEX_FILE);
        if (Files.exists(index)) {
            ca.readIndex(index);
        }
    }

    private IndexEntry entry(BigInteger serial) {
        return ca.issued().stream().filter(x -> x.serial().equals(serial)).findFirst().orElse(null);
    }

    private String partyOf(X509Certificate leaf) {
        try {
            if (leaf.getSubjectAlternativeNames() != null) {
                for (List<?> san : leaf.getSubjectAlternativeNames()) {
                    String name = san.get(1).toString();
                    String suffix = "." + policy.domain();
                    if ((Integer) san.get(0) == 2 && name.endsWith(suffix)) {
                        String id = name.substring(0, name.length() - suffix.length());
                        if (PartyIds.isValid(id)) {
                            return id;
                        }
                    }
                }
            }
        } catch (java.security.cert.CertificateParsingException ignored) {
            // falls through to the refusal
        }
        throw refuse("certificate " + leaf.getSerialNumber().toString(16) + " names no party under "
                + policy.domain() + ": only party certificates renew here");
    }

    private CsrIntake.Intake check(String party, String csrPem, Duration lifetime, Instant now) {
        CsrIntake.Intake intake;
        try {
            intake = CsrIntake.read(csrPem, policy.profile(), 1);
        } catch (IllegalArgumentException e) {
            throw refuse(e.getMessage());
        }
        checkKey(intake.publicKey());
        CertificateRequest r = intake.request();
        String own = policy.partyName(party);
        if (r.dnsNames().isEmpty()) {
            throw refuse("the CSR names no DNS name: ask for " + own);
        }
        for (String dns : r.dnsNames()) {
            if (!dns.equals(own) && !dns.endsWith("." + own)) {
                throw refuse(dns.equals(policy.domain()) || dns.endsWith("." + policy.domain())
                        ? "the CSR asks for '" + dns + "', a name of another party: party " + party + " may only have "
                                + own + " and names under it"
                        : "the CSR asks for '" + dns + "', outside the federation's domain " + policy.domain()
                                + ": party " + party + " may only have " + own + " and names under it");
            }
        }
        if (!r.ipAddresses().isEmpty() || !r.uris().isEmpty()) {
            throw refuse("the CSR asks for IP addresses or URIs " + r.ipAddresses() + r.uris() + ": enrollment "
                    + "issues only DNS names under " + own);
        }
        Duration life = lifetime == null ? policy.maxLifetime() : lifetime;
        if (life.isNegative() || life.isZero() || life.compareTo(policy.maxLifetime()) > 0) {
            throw refuse("the request asks for a lifetime of " + life + ": this CA issues at most "
                    + policy.maxLifetime());
        }
        Duration skew = life.dividedBy(10).compareTo(Duration.ofMinutes(5)) < 0
                ? life.dividedBy(10) : Duration.ofMinutes(5);
        r.validity(now.minus(skew), now.plus(life));
        try {
            ProfileRules.validate(r);
        } catch (IllegalArgumentException e) {
            throw refuse(e.getMessage());
        }
        return intake;
    }

    private void checkKey(PublicKey key) {
        KeyType type;
        try {
            type = KeyType.of(key);
        } catch (IllegalArgumentException e) {
            throw refuse("the CSR's key is " + key.getAlgorithm() + ": use EC P-256, EC P-384, RSA 2048+ or Ed25519");
        }
        if (!policy.keyTypes().contains(type)) {
            throw refuse("the CSR's key is " + type + ": this CA accepts " + policy.keyTypes());
        }
    }

    private IssuedCertificate issue(CsrIntake.Intake intake, EnrollmentTokens usedToken) throws IOException {
        IssuedCertificate issued;
        try {
            issued = ca.sign(intake);
        } catch (IllegalArgumentException e) {
            throw refuse(e.getMessage());
        }
        FileSet files = new FileSet().add(caDir.resolve(CaFolder.INDEX_FILE), ca.indexText(), false);
        if (usedToken != null) {
            files.add(caDir.resolve(EnrollmentTokens.FILE), usedToken.text(), true);
        }
        files.commit(FileSet.NOTHING);
        return issued;
    }

    private EnrollmentRefusedException refuse(String message) {
        refusals.incrementAndGet();
        return new EnrollmentRefusedException(message);
    }
}
