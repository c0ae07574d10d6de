package io.fedlink.pki;

import io.fedlink.api.FileSet;
import io.fedlink.api.PartyIds;
import io.fedlink.api.PemCodec;
import io.fedlink.pki.CertificateAuthority.IndexEntry;
import io.fedlink.pki.internal.EnrollmentAccess;
import io.fedlink.pki.internal.Keys;
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
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The CA side of enrollment: signs a party's CSR only when the request is authorized, either by a one-time
 * enrollment token bound to the party (its first certificate) or by the party's current certificate, issued here,
 * still valid and not revoked (a renewal), and only within its policy (domain, key types, longest lifetime). Every
 * refusal throws an {@link EnrollmentRefusedException} naming the reason and what to do, and issues nothing: the CA
 * index and the token file are unchanged. An accepted request is recorded before it is answered: the token marked used in
 * {@code enrollment-tokens.tsv} first, then the certificate's record (and a renewal's supersede) appended to
 * {@code index.tsv} in one write.
 *
 * <p>The tokens file is re-read at each request, and what other commands appended to the CA index since the last
 * one, so {@code fedlink pki token create}, {@code fedlink pki revoke} and {@code fedlink pki party revoke} work
 * while a server runs (a revocation made there refuses the next renewal). Every certificate is recorded as its
 * party's (the index's party column); renewals follow {@link #renewalRules(Duration, int, Duration)}. Thread-safe
 * (one request at a time).
 */
public final class EnrollmentAuthority {
    static {
        EnrollmentAccess.install(a -> a.new ServerView());
    }

    private volatile CertificateAuthority ca;
    private String caState;
    private volatile long caGeneration;
    private final char[] password;
    private final ReentrantLock requestLock = new ReentrantLock();
    private final Path caDir;
    private final EnrollmentPolicy policy;
    private final Clock clock;
    private final AtomicLong refusals = new AtomicLong();
    private final AtomicLong rateLimited = new AtomicLong();
    private volatile RenewalRules renewalRules = RenewalRules.DEFAULT;
    // per party (key): when it renewed within the rate window, and its last renewal (answered again to a retry)
    private final Map<String, ArrayDeque<Instant>> renewalTimes = new HashMap<>();
    private final Map<String, Renewal> lastRenewal = new HashMap<>();

    /** A renewal answered: from which certificate, and what was issued. */
    private record Renewal(BigInteger from, IssuedCertificate issued) {}

    /** Enrolls for {@code ca}, whose folder is {@code caDir}, under {@code policy}. */
    EnrollmentAuthority(CertificateAuthority ca, Path caDir, EnrollmentPolicy policy) {
        this(ca, caDir, policy, Clock.systemUTC());
    }

    EnrollmentAuthority(CertificateAuthority ca, Path caDir, EnrollmentPolicy policy, Clock clock) {
        this(ca, caDir, null, policy, clock);
    }

    private EnrollmentAuthority(CertificateAuthority ca, Path caDir, char[] password, EnrollmentPolicy policy,
                                Clock clock) {
        this.ca = Objects.requireNonNull(ca, "ca");
        this.caDir = Objects.requireNonNull(caDir, "caDir");
        this.password = password == null ? null : password.clone();
        this.policy = Objects.requireNonNull(policy, "policy");
        this.clock = clock;
        try {
            this.caState = state();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the CA folder " + caDir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Enrolls for the CA in the folder {@code caDir} (its key decrypted with {@code password}, or {@code null}),
     * following it through a rollover: when {@code fedlink pki ca rollover} or {@code retire} changes the folder,
     * the next request (or the enrollment server's periodic check) loads the new issuer. It issues party
     * certificates only: CN and DNS name {@code <party>.<domain>}, server and client, of any accepted key type.
     *
     * @param domain      the federation's domain, e.g. {@code fate.org}
     * @param maxLifetime the longest validity issued, and the default when a request names none ({@code null}: one
     *                    day)
     */
    public static EnrollmentAuthority forFolder(Path caDir, char[] password, String domain, Duration maxLifetime)
            throws IOException {
        EnrollmentPolicy policy = EnrollmentPolicy.of(domain);
        return forFolder(caDir, password, maxLifetime == null ? policy : policy.withMaxLifetime(maxLifetime));
    }

    /** Like {@link #forFolder(Path, char[], String, Duration)} under {@code policy}. */
    static EnrollmentAuthority forFolder(Path caDir, char[] password, EnrollmentPolicy policy) throws IOException {
        try (CaFolderLock lock = CaFolderLock.acquire(caDir)) {
            return new EnrollmentAuthority(CaFolder.load(caDir, password), caDir, password, policy,
                    Clock.systemUTC());
        }
    }

    /** The CA that issues now. */
    CertificateAuthority ca() {
        return ca;
    }

    /** The CA folder. */
    Path caDir() {
        return caDir;
    }

    /** How many times the issuing CA changed (a rollover started or retired) since this authority was made. */
    long caGeneration() {
        return caGeneration;
    }

    /**
     * The roots parties should trust now: the issuing root, and during a rollover's overlap the previous root
     * (what the enrollment server hands out with every certificate).
     */
    List<X509Certificate> trustBundle() throws IOException {
        List<X509Certificate> out = new java.util.ArrayList<>(List.of(ca().root()));
        X509Certificate prev = previousRoot();
        if (prev != null) {
            out.add(prev);
        }
        return out;
    }

    /**
     * Checks the CA folder and loads it again when its CA changed (a rollover started or retired); returns whether
     * it did.
     */
    boolean refresh() throws IOException {
        try (CaFolderLock lock = CaFolderLock.acquire(caDir)) {
            try (Held held = hold()) {
                return reloadIfChanged();
            }
        }
    }

    /**
     * Issues the enrollment endpoint's own certificate under the issuing CA (sent with the cross-signed root during
     * an overlap) and records it; {@code supersedes}, when given, is revoked as superseded in whichever index of
     * the folder holds it.
     */
    IssuedCertificate issueEndpoint(CertificateRequest request, BigInteger supersedes) throws IOException {
        try (CaFolderLock lock = CaFolderLock.acquire(caDir)) {
            try (Held held = hold()) {
                reloadIfChanged();
                refreshIndex();
                IssuedCertificate issued = ca.issue(request);
                ca.saveIndex(caDir);
                if (supersedes != null) {
                    revokeAnywhere(supersedes, RevocationReason.SUPERSEDED);
                }
                return issued;
            }
        }
    }

    /** Revokes {@code serial} in the issuing CA's index or, during an overlap, the previous CA's; false if unknown. */
    boolean revokeAnywhere(BigInteger serial, RevocationReason reason) throws IOException {
        try (CaFolderLock lock = CaFolderLock.acquire(caDir)) {
            try (Held held = hold()) {
                reloadIfChanged();
                refreshIndex();
                if (entry(serial) != null) {
                    ca.revoke(serial, reason);
                    ca.saveIndex(caDir);
                    return true;
                }
                Path prevIndex = caDir.resolve(CaRollover.PREVIOUS).resolve(CaFolder.INDEX_FILE);
                if (Files.isRegularFile(prevIndex)) {
                    CaIndex index = new CaIndex();
                    index.read(prevIndex);
                    if (index.get(serial) != null) {
                        index.revoke(serial, reason);
                        CaFolder.saveIndex(caDir.resolve(CaRollover.PREVIOUS), index);
                        return true;
                    }
                }
                return false;
            }
        }
    }

    /** What identifies the folder's CA state: the issuing certificate and whether an overlap runs. */
    private String state() throws IOException {
        Path cert = caDir.resolve(CaFolder.CERT_FILE);
        String pem = Files.isRegularFile(cert) ? Files.readString(cert, java.nio.charset.StandardCharsets.US_ASCII)
                : "";
        return pem + "|" + CaRollover.inProgress(caDir);
    }

    /** Under the folder lock: loads the folder's CA again when it changed. */
    private boolean reloadIfChanged() throws IOException {
        String now = state();
        if (now.equals(caState)) {
            return false;
        }
        ca = CaFolder.load(caDir, password);
        caState = now;
        caGeneration++;
        return true;
    }

    private X509Certificate previousRoot() throws IOException {
        Path f = caDir.resolve(CaRollover.PREVIOUS).resolve(CaFolder.CERT_FILE);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        List<X509Certificate> chain = PemCodec.readCertificates(CaFolder.read(f));
        return chain.get(chain.size() - 1);
    }

    /** The policy. */
    EnrollmentPolicy policy() {
        return policy;
    }

    /** How many requests were refused since start. */
    long refusals() {
        return refusals.get();
    }

    /** How many renewals the per-party rate limit refused since start (also in {@link #refusals()}). */
    long rateLimited() {
        return rateLimited.get();
    }

    /** The renewal rules in force ({@link RenewalRules#DEFAULT} unless set). */
    RenewalRules renewalRules() {
        return renewalRules;
    }

    /**
     * Sets how parties renew; returns this. A renewal supersedes the presented certificate, which is revoked (reason
     * {@code superseded}) {@code overlap} later, so services that still present it can reload first; a party renews
     * at most {@code maxRenewals} times per sliding {@code window} (further requests are refused and counted). The
     * default: 10 minutes of overlap, 6 renewals per party per hour.
     *
     * @throws IllegalArgumentException for a negative overlap, fewer than 1 renewal or a window that is not positive
     */
    public EnrollmentAuthority renewalRules(Duration overlap, int maxRenewals, Duration window) {
        return renewalRules(new RenewalRules(overlap, maxRenewals, window));
    }

    /** Sets the renewal rules; returns this. */
    EnrollmentAuthority renewalRules(RenewalRules rules) {
        this.renewalRules = Objects.requireNonNull(rules, "rules");
        return this;
    }

    /**
     * A party's first certificate: {@code token} must be unused, unexpired and bound to the party the CSR names.
     *
     * @param lifetime the validity asked for; {@code null} for the policy's maximum
     * @throws EnrollmentRefusedException naming the reason; nothing is issued
     */
    public IssuedCertificate enroll(String token, String csrPem, Duration lifetime) throws IOException {
        try (CaFolderLock lock = CaFolderLock.acquire(caDir); Held held = hold()) {
            Instant now = clock.instant();
            reloadIfChanged();
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
            IssuedCertificate issued = sign(intake, entry.party());
            record(tokens);
            return issued;
        }
    }

    /**
     * A renewal: {@code presented} (leaf first, as the party showed it in the TLS handshake) must be issued by this
     * CA (or, during a rollover's overlap, the previous root), in its index, not revoked, not expired, and the newest
     * certificate recorded for its party and profile. The new certificate is recorded as the same party's (the party
     * comes from the index, never from the request) and the presented one is superseded: revoked as
     * {@code superseded} effective after the renewal rules' overlap. A retry from the superseded certificate with
     * the same CSR key gets the same certificate back (a lost response locks nobody out); any other request from it
     * is refused, as are renewals beyond the per-party rate limit (counted).
     *
     * <p>A certificate recorded before party ids were (an old 5-column index line) renews once as the party its DNS
     * name under the policy's domain names; from then on the party is recorded.
     *
     * @throws EnrollmentRefusedException naming the reason; nothing is issued
     */
    public IssuedCertificate renew(List<X509Certificate> presented, String csrPem, Duration lifetime)
            throws IOException {
        try (CaFolderLock lock = CaFolderLock.acquire(caDir); Held held = hold()) {
            Instant now = clock.instant();
            reloadIfChanged();
            refreshIndex();
            if (presented == null || presented.isEmpty()) {
                throw refuse("a renewal needs the party's current certificate (mutual TLS): present it, or enroll "
                        + "with a token");
            }
            X509Certificate leaf = presented.get(0);
            String serial = leaf.getSerialNumber().toString(16);
            CaIndex previous = null; // the previous root's index, when the certificate is of the previous root
            IndexEntry e;
            if (signedBy(leaf, ca.certificate())) {
                e = ca.entry(leaf.getSerialNumber());
            } else if (previousRoot() != null && signedBy(leaf, previousRoot())) {
                // a rollover's overlap: a party still on the old root renews under the new one
                previous = new CaIndex();
                previous.read(caDir.resolve(CaRollover.PREVIOUS).resolve(CaFolder.INDEX_FILE));
                e = previous.get(leaf.getSerialNumber());
            } else {
                throw refuse("certificate " + serial + " was not issued by this CA: renew with a certificate of "
                        + "this CA, or enroll with a token");
            }
            if (e == null) {
                throw refuse("certificate " + serial + " is not in this CA's index: enroll with a token");
            }
            if (!now.isBefore(leaf.getNotAfter().toInstant())) {
                throw refuse("certificate " + serial + " expired at " + leaf.getNotAfter().toInstant()
                        + ": renewal needs a still-valid certificate; enroll again with a token");
            }
            String profile = policy.profile().name().toLowerCase(java.util.Locale.ROOT);
            if (e.profile() != null && !e.profile().equals(profile)) {
                throw refuse("certificate " + serial + " was issued as a " + e.profile() + " certificate, which is "
                        + "not a party certificate: only " + profile + " (party) certificates renew here, into "
                        + profile + " certificates");
            }
            // what it names must be a party's exact identity, and the party the index recorded when it was issued
            String party = partyOf(leaf);
            if (e.party() != null && !CaIndex.partyKey(e.party()).equals(CaIndex.partyKey(party))) {
                throw refuse("certificate " + serial + " names party " + party + " but was issued to party "
                        + e.party() + ": it does not renew; ask the CA operator");
            }
            String key = CaIndex.partyKey(party);
            if (e.revoked()) {
                return retried(e, party, key, csrPem, lifetime, now);
            }
            IndexEntry newest = newest(party, profile, previous);
            if (newest != null && !newest.serial().equals(e.serial())) {
                throw refuse("certificate " + serial + " is not the newest certificate of party " + party + " ("
                        + newest.serial().toString(16) + " is): only the newest renews; renew with it");
            }
            ArrayDeque<Instant> times = renewalTimes.computeIfAbsent(key, k -> new ArrayDeque<>());
            while (!times.isEmpty() && !times.peekFirst().isAfter(now.minus(renewalRules.window()))) {
                times.pollFirst();
            }
            if (times.size() >= renewalRules.maxRenewals()) {
                rateLimited.incrementAndGet();
                throw refuse("party " + party + " renewed " + times.size() + " times within " + renewalRules.window()
                        + " (the limit): try again after " + times.peekFirst().plus(renewalRules.window()));
            }
            CsrIntake.Intake intake = check(party, csrPem, lifetime, now);
            Instant end = now.plus(renewalRules.overlap());
            IssuedCertificate issued = sign(intake, party);
            if (previous == null) {
                ca.revoke(e.serial(), RevocationReason.SUPERSEDED, end); // appended in one write with the new record
                record(null);
            } else {
                record(null);
                previous.revoke(e.serial(), RevocationReason.SUPERSEDED, end);
                CaFolder.saveIndex(caDir.resolve(CaRollover.PREVIOUS), previous);
            }
            times.addLast(now);
            lastRenewal.put(key, new Renewal(e.serial(), issued));
            return issued;
        }
    }

    /** A request from a superseded or revoked certificate: the same answer again for the same key, else refused. */
    private IssuedCertificate retried(IndexEntry e, String party, String key, String csrPem, Duration lifetime,
                                      Instant now) {
        String serial = e.serial().toString(16);
        if (e.reason() != RevocationReason.SUPERSEDED) {
            throw refuse("certificate " + serial + " was revoked at " + e.revokedAt() + " (" + e.reason()
                    + "): a revoked party cannot renew; ask the CA operator for a new enrollment token");
        }
        Renewal last = lastRenewal.get(key);
        if (last != null && last.from().equals(e.serial())) {
            CsrIntake.Intake intake = check(party, csrPem, lifetime, now);
            if (Arrays.equals(intake.publicKey().getEncoded(), last.issued().certificate().getPublicKey()
                    .getEncoded()) && !e.revokedAt(now)) {
                return last.issued(); // the response was lost: the same certificate again
            }
        }
        throw refuse("certificate " + serial + " was superseded by a renewal (revoked from " + e.revokedAt()
                + "): renew with the certificate that renewal issued; only a retry with the same key gets it again "
                + "(if it was lost, ask the CA operator for a new enrollment token)");
    }

    /** The newest certificate recorded for the party and profile: in this CA's index, else the previous root's. */
    private IndexEntry newest(String party, String profile, CaIndex previous) {
        IndexEntry found = last(ca.issuedTo(party), profile);
        return found != null || previous == null ? found : last(previous.ofParty(party), profile);
    }

    private static IndexEntry last(List<IndexEntry> entries, String profile) {
        for (int i = entries.size() - 1; i >= 0; i--) {
            if (profile.equals(entries.get(i).profile())) {
                return entries.get(i);
            }
        }
        return null;
    }

    private static boolean signedBy(X509Certificate leaf, X509Certificate issuer) {
        if (!leaf.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
            return false;
        }
        try {
            leaf.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** The request lock held (after the folder lock: requests of one authority run one at a time). */
    private interface Held extends AutoCloseable {
        @Override
        void close();
    }

    private Held hold() {
        requestLock.lock();
        return requestLock::unlock;
    }

    /** Picks up what other commands recorded meanwhile (a revocation by 'fedlink pki revoke', other issues). */
    private void refreshIndex() throws IOException {
        Path index = caDir.resolve(CaFolder.INDEX_FILE);
        if (Files.exists(index)) {
            ca.readIndex(index);
        }
    }

    private IndexEntry entry(BigInteger serial) {
        return ca.entry(serial);
    }

    /**
     * The party of {@code leaf}, a certificate presented for renewal: its canonical party id when {@code leaf} is a
     * party certificate of this policy ({@link EnrollmentPolicy#partyOf}); a renewal keeps that role and identity.
     *
     * @throws EnrollmentRefusedException (counted) when {@code leaf} is any other certificate: an operator's client
     *         certificate, a server certificate, one with other names; those never renew into party certificates
     */
    String partyOf(X509Certificate leaf) {
        String party = policy.partyOf(leaf);
        if (party == null) {
            throw refuse("certificate " + leaf.getSerialNumber().toString(16) + " (" + leaf.getSubjectX500Principal()
                    .getName() + ") is not a party certificate of " + policy.domain() + ": only party certificates "
                    + "(CN and the one DNS name <party>.<domain>, server and client) renew here, into party "
                    + "certificates; other roles are issued by the CA operator ('fedlink pki cert create')");
        }
        return party;
    }

    /**
     * Checks a CSR for {@code party} and returns what to issue: the party's canonical identity
     * ({@link EnrollmentPolicy#identity}) for the CSR's key, valid {@code lifetime} (or the policy's maximum) from
     * {@code now}. The CSR's subject and names are only compared, never copied ({@link CsrIntake.Csr#requireOnly}).
     *
     * @throws EnrollmentRefusedException (counted) naming what the CSR asked for and what the party may have
     */
    CsrIntake.Intake check(String party, String csrPem, Duration lifetime, Instant now) {
        CsrIntake.Csr csr;
        CertificateRequest identity;
        try {
            csr = CsrIntake.parse(csrPem);
            identity = policy.identity(party);
        } catch (IllegalArgumentException e) {
            throw refuse(e.getMessage());
        }
        checkKey(csr.publicKey());
        String who = "party " + PartyIds.canonical(party);
        try {
            csr.requireOnly(identity, who);
        } catch (IllegalArgumentException e) {
            throw refuse(e.getMessage());
        }
        for (X509Certificate c : ca.chain()) {
            String caName = c.getSubjectX500Principal().getName();
            if (caName.equalsIgnoreCase("CN=" + identity.effectiveCommonName())) {
                throw refuse(who + "'s name " + identity.effectiveCommonName() + " is a name of this CA (" + caName
                        + "): no party may hold a CA's name");
            }
        }
        Duration life = lifetime == null ? policy.maxLifetime() : lifetime;
        if (life.isNegative() || life.isZero() || life.compareTo(policy.maxLifetime()) > 0) {
            throw refuse("the request asks for a lifetime of " + life + ": this CA issues at most "
                    + policy.maxLifetime());
        }
        Duration skew = life.dividedBy(10).compareTo(Duration.ofMinutes(5)) < 0
                ? life.dividedBy(10) : Duration.ofMinutes(5);
        identity.validity(now.minus(skew), now.plus(life));
        return new CsrIntake.Intake(identity, csr.publicKey());
    }

    /** Refuses (counted) a key of a type this policy does not accept, naming it as it is. */
    void checkKey(PublicKey key) {
        KeyType type;
        try {
            type = Keys.of(key);
        } catch (IllegalArgumentException e) {
            throw refuse("the CSR's key is " + Keys.describe(key) + ": this CA accepts " + KeyType.ACCEPTED);
        }
        if (!policy.keyTypes().contains(type)) {
            throw refuse("the CSR's key is " + Keys.describe(key) + ": this CA accepts " + policy.keyTypes());
        }
    }

    /** Signs for {@code party} (recorded in memory; {@link #record} writes it). */
    private IssuedCertificate sign(CsrIntake.Intake intake, String party) {
        try {
            return ca.sign(intake, party);
        } catch (IllegalArgumentException e) {
            throw refuse(e.getMessage());
        }
    }

    /**
     * Writes what was signed: the token file first (a crash in between leaves the token used and nothing handed
     * out, never a token good for a second certificate), then the new index records, appended in one write.
     */
    private void record(EnrollmentTokens usedToken) throws IOException {
        if (usedToken != null) {
            new FileSet().add(caDir.resolve(EnrollmentTokens.FILE), usedToken.text(), true).commit(FileSet.NOTHING);
        }
        ca.saveIndex(caDir);
    }

    /** What the enrollment server does with this authority ({@link EnrollmentAccess}). */
    private final class ServerView implements EnrollmentAccess.View {
        @Override
        public boolean refresh() throws IOException {
            return EnrollmentAuthority.this.refresh();
        }

        @Override
        public long caGeneration() {
            return EnrollmentAuthority.this.caGeneration();
        }

        @Override
        public Path caDir() {
            return EnrollmentAuthority.this.caDir();
        }

        @Override
        public List<X509Certificate> trustBundle() throws IOException {
            return EnrollmentAuthority.this.trustBundle();
        }

        @Override
        public IssuedCertificate issueEndpoint(CertificateRequest request, BigInteger supersedes) throws IOException {
            return EnrollmentAuthority.this.issueEndpoint(request, supersedes);
        }

        @Override
        public boolean revokeAnywhere(BigInteger serial, RevocationReason reason) throws IOException {
            return EnrollmentAuthority.this.revokeAnywhere(serial, reason);
        }
    }

    private EnrollmentRefusedException refuse(String message) {
        refusals.incrementAndGet();
        return new EnrollmentRefusedException(message);
    }
}
