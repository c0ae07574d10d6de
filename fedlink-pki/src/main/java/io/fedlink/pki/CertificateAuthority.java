package io.fedlink.pki;

import io.fedlink.api.CidrBlock;
import io.fedlink.api.PemCodec;
import io.fedlink.pki.internal.Keys;
import io.fedlink.pki.internal.Pem;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;

/**
 * An in-memory certificate authority: one key and certificate that issue the certificates of a federation, sign
 * CSRs, revoke and publish CRLs. It replaces the FATE guide's {@code openssl ca}, etcd's cfssl steps, Flink's
 * keytool steps and Consul's {@code consul tls}.
 *
 * <pre>{@code
 * CertificateAuthority ca = CertificateAuthority.builder()
 *     .commonName("fate.org federation CA")
 *     .permitDns("fate.org")                      // only *.fate.org names may ever be issued
 *     .create();
 * IssuedCertificate broker = ca.issue(CertificateRequest.party("10000", "fate.org"));
 * SSLContext server = broker.tlsMaterial().serverContext(ClientAuth.REQUIRED);
 * ca.save(Path.of("fate-ca"), null);              // and CertificateAuthority.load(...) later
 * }</pre>
 *
 * <p>Every certificate gets a random 119-bit serial, SKI and AKI, basic constraints and a critical key usage that
 * matches its key, an extended key usage from its {@link Profile} ({@link ProfileRules}), SHA-256 (or SHA-384 for
 * P-384) signatures, and a notBefore five minutes in the past for clock skew ({@link CertificateBuilder}). Refused,
 * naming the offending value: names outside the CA's name constraints ({@link NameRules}), requests that break their
 * profile, CSRs with a bad signature ({@link CsrIntake}), intermediates beyond the path length, validity beyond the
 * CA's own. The folder form is {@link CaFolder}; the issued index {@link CaIndex}.
 *
 * <p>Thread-safe: issuing and revoking are synchronised; the issued index is kept for {@link #save(Path, char[])}.
 */
public final class CertificateAuthority {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration SKEW = Duration.ofMinutes(5);

    /** The files of a CA folder, in the order written. */
    static final List<String> FILES = CaFolder.FILES;

    private final PrivateKey key;
    private final List<X509Certificate> chain; // this CA first, root last
    private final NameRules rules;             // NameRules.NONE: unconstrained
    private final List<X509Certificate> cross; // this CA's certificate signed by the previous root (rollover)
    private final CaIndex index = new CaIndex();

    /**
     * One issued certificate in the index.
     *
     * @param subject   what the index shows for it (its subject text: for people, never for selecting)
     * @param revokedAt when its revocation takes effect ({@code null}: not revoked); a superseded certificate's may
     *                  lie in the future (the overlap in which consumers reload)
     * @param party     the party id the CA issued it to (from the enrollment token, the renewed certificate's
     *                  record, or the operator's {@code --party}); {@code null} when unknown (not a party
     *                  certificate, or recorded before party ids were)
     * @param profile   its profile's name ({@code peer}, {@code server}, ..., {@code ca}), {@code null} when unknown
     */
    record IndexEntry(BigInteger serial, String subject, Instant notAfter, Instant revokedAt,
                      RevocationReason reason, String party, String profile) {
        /** Whether a revocation is recorded (effective now or at the end of an overlap). */
        boolean revoked() {
            return revokedAt != null;
        }

        /** Whether it is revoked at {@code now} (what a CRL made then lists). */
        boolean revokedAt(Instant now) {
            return revokedAt != null && !revokedAt.isAfter(now);
        }

        /**
         * One line for people: {@code serial <hex> until <notAfter> party <id|-> profile <name|-> [revoked <when>
         * <reason>] subject <subject>}, the reason as {@link io.fedlink.pki.internal.Parsing#revocationReason}
         * reads it.
         */
        String describe() {
            return "serial " + serial.toString(16) + " until " + notAfter + " party " + (party == null ? "-" : party)
                    + " profile " + (profile == null ? "-" : profile) + (revokedAt == null ? "" : " revoked "
                    + revokedAt + " " + reason.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'))
                    + " subject " + subject;
        }
    }

    private CertificateAuthority(PrivateKey key, List<X509Certificate> chain, NameRules rules,
                                 List<X509Certificate> cross) {
        this.key = key;
        this.chain = List.copyOf(chain);
        this.rules = rules;
        this.cross = List.copyOf(cross);
    }

    /** This CA (before its index is read) sending {@code crossSigned} after every leaf it issues. */
    CertificateAuthority withCrossCertificates(List<X509Certificate> crossSigned) {
        return new CertificateAuthority(key, chain, rules, crossSigned);
    }

    /** Starts a root CA. */
    public static Builder builder() {
        return new Builder(null);
    }

    /** Starts an intermediate CA signed by this one. */
    Builder intermediate() {
        return new Builder(this);
    }

    /** This CA's certificate (the root itself for every CA made by {@link #builder} or a rollover). */
    X509Certificate certificate() {
        return chain.get(0);
    }

    /** This CA's chain: its certificate first, the root last. */
    List<X509Certificate> chain() {
        return chain;
    }

    /**
     * During a CA rollover, this (new) CA's certificate signed by the previous root: sent after every leaf it issues,
     * so peers that still trust only the previous root accept the new certificates. Empty otherwise.
     */
    List<X509Certificate> crossCertificates() {
        return cross;
    }

    /**
     * The root of the chain: the trust anchor peers are given, and the certificate of this CA itself (a CA made by
     * {@link #builder} is a root; so is the new CA of a rollover). Trust-only TLS material, for a client that
     * presents no certificate: {@code TlsMaterial.builder().trust(ca.root()).build()}.
     */
    public X509Certificate root() {
        return chain.get(chain.size() - 1);
    }

    /** DNS suffixes this CA may issue names under; empty when unconstrained. */
    List<String> permittedDns() {
        return rules.dns();
    }

    /** IP blocks this CA may issue addresses in ({@code 10.0.0.0/8}); empty means none under DNS constraints. */
    List<String> permittedIp() {
        return rules.ip().stream().map(Object::toString).toList();
    }

    /** Domains the hosts of issued URIs must lie in; empty means none under DNS constraints. */
    List<String> permittedUriDomains() {
        return rules.uriDomains();
    }

    /**
     * Issues a certificate with a freshly generated key; one made by {@link CertificateRequest#party} is recorded in
     * the index as that party's (what bulk operations such as {@code fedlink pki party revoke} select by).
     */
    public IssuedCertificate issue(CertificateRequest request) {
        KeyPair pair = request.keyType().generate();
        X509Certificate cert = sign(request, pair.getPublic(), request.party());
        return new IssuedCertificate(pair.getPrivate(), issuedChain(cert), root());
    }

    /**
     * Signs a PKCS#10 CSR (PEM) under {@code profile}: the CSR's signature is verified, its common name and SAN
     * request (DNS, IP, URI) are applied, and the profile and name constraints are enforced.
     */
    public IssuedCertificate signCsr(String csrPem, Profile profile, int days) {
        return sign(CsrIntake.read(csrPem, profile, days), null);
    }

    /** Signs an already-checked CSR intake (the enrollment path), recorded as {@code party}'s. */
    IssuedCertificate sign(CsrIntake.Intake intake, String party) {
        return new IssuedCertificate(null, issuedChain(sign(intake.request(), intake.publicKey(), party)), root());
    }

    IssuedCertificate sign(CsrIntake.Intake intake) {
        return sign(intake, null);
    }

    /** The {@code index.tsv} text of the issued index. */
    synchronized String indexText() {
        return index.text();
    }

    private List<X509Certificate> issuedChain(X509Certificate leaf) {
        List<X509Certificate> out = new ArrayList<>();
        out.add(leaf);
        out.addAll(chain.subList(0, chain.size() - 1)); // intermediates, not the root
        out.addAll(cross);                               // the new root signed by the old one (rollover overlap)
        return out;
    }

    private synchronized X509Certificate sign(CertificateRequest request, PublicKey subjectKey, String party) {
        ProfileRules.validate(request);
        rules.check(request);
        Instant[] window = request.window(Instant.now());
        Instant caEnd = certificate().getNotAfter().toInstant();
        if (window[1].isAfter(caEnd)) {
            throw new IllegalArgumentException("requested validity until " + window[1] + " outlives the CA ("
                    + caEnd + ")");
        }
        String cn = request.effectiveCommonName();
        X500NameBuilder name = new X500NameBuilder(BCStyle.INSTANCE);
        X500Name subject = cn == null ? name.build() : name.addRDN(BCStyle.CN, cn).build();
        List<GeneralName> sans = new ArrayList<>();
        request.dnsNames().forEach(d -> sans.add(new GeneralName(GeneralName.dNSName, d)));
        request.ipAddresses().forEach(ip -> sans.add(new GeneralName(GeneralName.iPAddress, ip)));
        request.uris().forEach(u -> sans.add(new GeneralName(GeneralName.uniformResourceIdentifier, u.toString())));
        CertificateBuilder b = new CertificateBuilder(certificate(), subject, subjectKey, window[0], window[1])
                .extension(Extension.basicConstraints, true, new BasicConstraints(false))
                .extension(Extension.keyUsage, true, ProfileRules.keyUsage(request, subjectKey));
        ExtendedKeyUsage eku = ProfileRules.extendedKeyUsage(request);
        if (eku != null) { // none only for Consul's cli certificate, as Consul writes it
            b.extension(Extension.extendedKeyUsage, false, eku);
        }
        if (!sans.isEmpty()) { // critical when the subject is empty (RFC 5280 4.2.1.6)
            b.extension(Extension.subjectAlternativeName, cn == null, new GeneralNames(sans.toArray(GeneralName[]::new)));
        }
        X509Certificate cert = b.sign(key, signatureAlgorithm());
        index.add(cert, cn == null ? "DNS:" + request.dnsNames().get(0) : cert.getSubjectX500Principal().getName(),
                party, request.profile().name().toLowerCase(java.util.Locale.ROOT));
        return cert;
    }

    private String signatureAlgorithm() {
        return Keys.signatureAlgorithmFor(certificate().getPublicKey());
    }

    /**
     * Revokes an issued certificate. Revoking twice keeps the first revocation.
     *
     * @throws IllegalArgumentException if this CA never issued {@code serial}
     */
    synchronized void revoke(BigInteger serial, RevocationReason reason) {
        index.revoke(serial, reason);
    }

    /**
     * Revokes {@code serial} when it is a certificate of this CA not revoked yet (one in a superseded overlap is
     * revoked now); returns whether it did.
     */
    public synchronized boolean revokeIfValid(BigInteger serial, RevocationReason reason) {
        IndexEntry e = index.get(serial);
        if (e == null || e.revokedAt(Instant.now())) {
            return false;
        }
        index.revoke(serial, reason);
        return true;
    }

    /** Revokes effective at {@code at} (a superseded certificate's overlap end); see {@link CaIndex#revoke}. */
    synchronized void revoke(BigInteger serial, RevocationReason reason, Instant at) {
        index.revoke(serial, reason, at);
    }

    /** The index entry of {@code serial}, or {@code null}: a hash lookup. */
    synchronized IndexEntry entry(BigInteger serial) {
        return index.get(serial);
    }

    /** The index entries recorded for {@code party} (case-insensitive), oldest first. */
    synchronized List<IndexEntry> issuedTo(String party) {
        return index.ofParty(party);
    }

    /** A CRL listing every revoked certificate, valid for {@code validity}. */
    public synchronized X509CRL crl(Duration validity) {
        Instant now = Instant.now();
        try {
            X509v2CRLBuilder b = new X509v2CRLBuilder(X500Name.getInstance(
                    certificate().getSubjectX500Principal().getEncoded()), Date.from(now.minus(SKEW)));
            b.setNextUpdate(Date.from(now.plus(validity)));
            for (IndexEntry e : index.entries()) {
                if (e.revokedAt(now)) { // a superseded certificate is listed once its overlap ended
                    b.addCRLEntry(e.serial(), Date.from(e.revokedAt()), e.reason().code());
                }
            }
            b.addExtension(Extension.authorityKeyIdentifier, false, CertificateBuilder.authorityKeyId(certificate()));
            b.addExtension(Extension.cRLNumber, false, new CRLNumber(BigInteger.valueOf(index.nextCrlNumber())));
            return new JcaX509CRLConverter().getCRL(b.build(CertificateBuilder.signer(key, signatureAlgorithm())));
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot build the CRL: " + e.getMessage(), e);
        }
    }

    /** A CRL valid for 7 days. */
    X509CRL crl() {
        return crl(Duration.ofDays(7));
    }

    /** The issued index, oldest first. */
    synchronized List<IndexEntry> issued() {
        return index.entries();
    }

    // ---- persistence: the folder form is CaFolder ------------------------------------------------------------------

    /**
     * Saves the CA into {@code dir} (created with mode 0700 if missing; an existing folder keeps its mode):
     * {@code ca.pem} (chain), {@code ca-key.pem} (PKCS#8, mode 0600, encrypted when {@code password} is given) and
     * {@code index.tsv} (issued serials and revocations, crlNumber), replacing them as one unit.
     */
    synchronized void save(Path dir, char[] password) throws IOException {
        CaFolder.files(dir, chain, key, password, index).commit(io.fedlink.api.FileSet.NOTHING);
        index.written(dir.resolve(CaFolder.INDEX_FILE));
    }

    /**
     * Saves a new CA into {@code dir} like {@link #save(Path, char[])}, refusing when any CA file is already there.
     *
     * @throws IllegalArgumentException naming the files found
     */
    synchronized void saveNew(Path dir, char[] password) throws IOException {
        CaFolder.saveNew(dir, CaFolder.files(dir, chain, key, password, index));
        index.written(dir.resolve(CaFolder.INDEX_FILE));
    }

    /**
     * Saves only {@code index.tsv} (issued serials, revocations, CRL number) into the CA folder {@code dir}. Under
     * the folder's lock ({@link CaFolder#lock()}), what another writer appended meanwhile is read first, then this
     * CA's new records are appended as whole lines: concurrent writers never lose a line, and the cost does not grow
     * with the index.
     *
     * @throws IllegalArgumentException when {@code dir} holds another CA now (e.g. after a rollover)
     */
    void saveIndex(Path dir) throws IOException {
        try (CaFolderLock lock = CaFolderLock.acquire(dir)) {
            synchronized (this) {
                requireSameCa(dir);
                index.sync(dir.resolve(CaFolder.INDEX_FILE));
            }
        }
    }

    private void requireSameCa(Path dir) throws IOException {
        Path f = dir.resolve(CaFolder.CERT_FILE);
        if (java.nio.file.Files.isRegularFile(f)) {
            X509Certificate there = PemCodec.readCertificate(java.nio.file.Files.readString(f,
                    java.nio.charset.StandardCharsets.US_ASCII));
            if (!there.equals(certificate())) {
                throw new IllegalArgumentException("the CA folder " + dir + " now holds CA "
                        + there.getSubjectX500Principal().getName() + ", not " + certificate().getSubjectX500Principal()
                        .getName() + " (was it rolled over?): load the folder again");
            }
        }
    }

    /**
     * Loads a CA saved by {@link #save}. Nothing is changed on disk; a missing or damaged file fails with a message
     * naming the file (and line).
     */
    static CertificateAuthority load(Path dir, char[] password) throws IOException {
        return CaFolder.load(dir, password);
    }

    /** Loads with an unencrypted key. */
    static CertificateAuthority load(Path dir) throws IOException {
        return load(dir, null);
    }

    synchronized void readIndex(Path file) throws IOException {
        index.read(file);
    }

    /**
     * A CA from an existing certificate (chain, CA first) and key, e.g. made by {@code openssl req -x509} as in the
     * FATE guide. The key may be PKCS#8, PKCS#1 or SEC1, encrypted or not.
     *
     * @throws IllegalArgumentException if the certificate is not a CA, or the key does not belong to it
     */
    static CertificateAuthority fromPem(String certificateChainPem, String keyPem, char[] password) {
        List<X509Certificate> chain = PemCodec.readCertificates(certificateChainPem);
        X509Certificate cert = chain.get(0);
        if (cert.getBasicConstraints() < 0) {
            throw new IllegalArgumentException("certificate " + cert.getSubjectX500Principal().getName()
                    + " is not a CA certificate (basicConstraints cA is not set)");
        }
        PrivateKey key = Pem.privateKey(keyPem, password);
        requireMatch(key, cert.getPublicKey(), cert);
        return new CertificateAuthority(key, chain, NameRules.of(cert), List.of());
    }

    /** A new root for a rollover and this root's signature on it. */
    record Successor(CertificateAuthority next, X509Certificate crossSigned) {}

    /**
     * A new root CA with this root's name constraints and path length, and its certificate cross-signed by this
     * root (recorded in this CA's index), valid until the earlier of the two roots' ends.
     *
     * @throws IllegalArgumentException for an intermediate CA, or a root whose path length 0 forbids signing a CA
     */
    synchronized Successor successor(String commonName, KeyType keyType, int days) {
        if (chain.size() != 1) {
            throw new IllegalArgumentException("CA " + certificate().getSubjectX500Principal().getName() + " is an "
                    + "intermediate: only a root rolls over; have its parent issue a new intermediate instead");
        }
        int pl = certificate().getBasicConstraints();
        if (pl == 0) {
            throw new IllegalArgumentException("root " + certificate().getSubjectX500Principal().getName() + " has "
                    + "path length 0: it cannot cross-sign a successor, so parties that trust only it would refuse "
                    + "the new CA's certificates; create a new CA and distribute its root first");
        }
        Builder b = builder().commonName(commonName).keyType(keyType).days(days).rules(rules);
        if (pl != Integer.MAX_VALUE) {
            b.pathLength(pl);
        }
        CertificateAuthority next = b.create();
        X509Certificate nc = next.certificate();
        Instant end = nc.getNotAfter().toInstant().isBefore(certificate().getNotAfter().toInstant())
                ? nc.getNotAfter().toInstant() : certificate().getNotAfter().toInstant();
        // below this root the cross certificate is an intermediate: one level less than the root allows
        int crossPl = pl == Integer.MAX_VALUE ? nc.getBasicConstraints() : pl - 1;
        CertificateBuilder cb = new CertificateBuilder(certificate(),
                X500Name.getInstance(nc.getSubjectX500Principal().getEncoded()), nc.getPublicKey(),
                Instant.now().minus(SKEW), end)
                .extension(Extension.basicConstraints, true, new BasicConstraints(crossPl))
                .extension(Extension.keyUsage, true, ProfileRules.caKeyUsage());
        if (!next.rules.isEmpty()) {
            cb.extension(Extension.nameConstraints, true, next.rules.extension());
        }
        X509Certificate crossSigned = cb.sign(key, signatureAlgorithm());
        index.add(crossSigned, crossSigned.getSubjectX500Principal().getName() + " (cross-signed successor)", null,
                "ca");
        return new Successor(next, crossSigned);
    }

    /** The private key PEM of this CA as saved ({@code password}: encrypted). */
    String keyPem(char[] password) {
        return password == null || password.length == 0 ? PemCodec.privateKey(key) : Pem.encryptedPkcs8(key, password);
    }

    private static void requireMatch(PrivateKey key, PublicKey pub, X509Certificate cert) {
        try {
            String alg = Keys.signatureAlgorithmFor(pub);
            byte[] challenge = new byte[32];
            RANDOM.nextBytes(challenge);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(challenge);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(pub);
            v.update(challenge);
            if (!v.verify(sig)) {
                throw new IllegalArgumentException("the private key does not belong to certificate "
                        + cert.getSubjectX500Principal().getName());
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the private key does not belong to certificate "
                    + cert.getSubjectX500Principal().getName() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "CertificateAuthority[" + certificate().getSubjectX500Principal().getName() + ", chain " + chain.size()
                + (rules.isEmpty() ? "" : ", permitted " + rules.dns() + rules.ip() + rules.uriDomains())
                + ", issued " + issued().size() + "]";
    }

    /** Builds a root or intermediate CA. */
    public static final class Builder {
        private final CertificateAuthority parent;
        private String commonName = "fedlink CA";
        private KeyType keyType = KeyType.EC_P256;
        private int days = 3650;
        private Integer pathLength;
        private final List<String> permitted = new ArrayList<>();
        private final List<CidrBlock> permittedIp = new ArrayList<>();
        private final List<String> permittedUri = new ArrayList<>();

        private Builder(CertificateAuthority parent) {
            this.parent = parent;
        }

        /** The CA's common name. */
        public Builder commonName(String cn) {
            CertificateRequest.of(Profile.CLIENT).commonName(cn); // same validation
            this.commonName = cn;
            return this;
        }

        /** The CA key type (EC P-256 by default). */
        public Builder keyType(KeyType type) {
            this.keyType = Objects.requireNonNull(type, "type");
            return this;
        }

        /** Validity in days (default 3650). */
        public Builder days(int d) {
            if (d < 1 || d > 36500) {
                throw new IllegalArgumentException("CA validity must be 1..36500 days, was " + d);
            }
            this.days = d;
            return this;
        }

        /** How many intermediate CAs may follow (default: 1 for a root, 0 for an intermediate). */
        public Builder pathLength(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("path length must be >= 0, was " + n);
            }
            this.pathLength = n;
            return this;
        }

        /** Restricts issued DNS names to this domain and its subdomains (X.509 name constraints). */
        public Builder permitDns(String... domains) {
            for (String d : domains) {
                permitted.add(NameRules.domain(d));
            }
            return this;
        }

        /**
         * Permits IP address SANs in these blocks ({@code 10.0.0.0/8}, {@code fd00::/8}). Without it, a CA with DNS
         * constraints issues no IP address and its certificate excludes every IP range.
         */
        public Builder permitIp(String... cidrs) {
            for (String c : cidrs) {
                permittedIp.add(CidrBlock.parse(c));
            }
            return this;
        }

        /**
         * Permits URI SANs whose host is this domain or under it ({@code spiffe://fate.org/...}). Without it, a CA
         * with DNS constraints issues no URI.
         */
        public Builder permitUriDomain(String... domains) {
            for (String d : domains) {
                permittedUri.add(NameRules.domain(d));
            }
            return this;
        }

        /** The name constraints of {@code r} (a rollover keeps the old root's). */
        Builder rules(NameRules r) {
            permitted.addAll(r.dns());
            permittedIp.addAll(r.ip());
            permittedUri.addAll(r.uriDomains());
            return this;
        }

        /** Creates the CA: a new key, and a certificate self-signed (root) or signed by the parent. */
        public CertificateAuthority create() {
            int pl = pathLength != null ? pathLength : parent == null ? 1 : 0;
            NameRules effective = new NameRules(permitted, permittedIp, permittedUri);
            Instant now = Instant.now();
            Instant end = now.plus(Duration.ofDays(days));
            if (parent != null) {
                int parentPl = parent.certificate().getBasicConstraints();
                if (parentPl == 0) {
                    throw new IllegalArgumentException("CA " + parent.certificate().getSubjectX500Principal().getName()
                            + " has path length 0: it may not sign intermediate CAs");
                }
                if (parentPl != Integer.MAX_VALUE && pl >= parentPl) {
                    throw new IllegalArgumentException("path length " + pl + " must be below the parent's " + parentPl);
                }
                effective = parent.rules.narrowedBy(effective);
                Instant parentEnd = parent.certificate().getNotAfter().toInstant();
                end = end.isAfter(parentEnd) ? parentEnd : end;
            }
            KeyPair pair = keyType.generate();
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
            CertificateBuilder b = new CertificateBuilder(parent == null ? null : parent.certificate(), subject,
                    pair.getPublic(), now.minus(SKEW), end)
                    .extension(Extension.basicConstraints, true, new BasicConstraints(pl))
                    .extension(Extension.keyUsage, true, ProfileRules.caKeyUsage());
            if (!effective.isEmpty()) {
                b.extension(Extension.nameConstraints, true, effective.extension());
            }
            List<X509Certificate> chain = new ArrayList<>();
            if (parent == null) {
                chain.add(b.sign(pair.getPrivate(), keyType.signatureAlgorithm()));
            } else {
                X509Certificate cert = b.sign(parent.key, parent.signatureAlgorithm());
                chain.add(cert);
                chain.addAll(parent.chain);
                synchronized (parent) {
                    parent.index.add(cert, cert.getSubjectX500Principal().getName(), null, "ca");
                }
            }
            return new CertificateAuthority(pair.getPrivate(), chain, effective, List.of());
        }
    }
}
