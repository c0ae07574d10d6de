package io.fedlink.pki;

import io.fedlink.api.CidrBlock;
import io.fedlink.api.HostNames;
import io.fedlink.api.TlsMaterial;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;

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
 * ca.save(Path.of("fate-ca"));                    // and CertificateAuthority.load(...) later
 * }</pre>
 *
 * <p>Every certificate gets a random 119-bit serial, SKI and AKI, basic constraints and a critical key usage that
 * matches its key (RSA: digitalSignature + keyEncipherment; EC and Ed25519: digitalSignature), an extended key usage
 * from its {@link Profile}, SHA-256 (or SHA-384 for P-384) signatures, and a notBefore five minutes in the past for
 * clock skew. Refused, naming the offending value: names outside the CA's DNS name constraints, requests that break
 * their profile, CSRs with a bad signature, intermediates beyond the path length, validity beyond the CA's own.
 *
 * <p>Thread-safe: issuing and revoking are synchronised; the issued index is kept for {@link #save(Path)}.
 */
public final class CertificateAuthority {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final PrivateKey key;
    private final List<X509Certificate> chain; // this CA first, root last
    private final NameRules rules;             // NameRules.NONE: unconstrained
    private final Map<BigInteger, IndexEntry> index = new LinkedHashMap<>();
    private long crlNumber;

    /** One issued certificate in the index. */
    public record IndexEntry(BigInteger serial, String subject, Instant notAfter, Instant revokedAt,
                             RevocationReason reason) {
        /** Whether it was revoked. */
        public boolean revoked() {
            return revokedAt != null;
        }
    }

    private CertificateAuthority(PrivateKey key, List<X509Certificate> chain, NameRules rules) {
        this.key = key;
        this.chain = List.copyOf(chain);
        this.rules = rules;
    }

    /** Starts a root CA. */
    public static Builder builder() {
        return new Builder(null);
    }

    /** Starts an intermediate CA signed by this one. */
    public Builder intermediate() {
        return new Builder(this);
    }

    /** This CA's certificate. */
    public X509Certificate certificate() {
        return chain.get(0);
    }

    /** This CA's chain: its certificate first, the root last. */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** The root of the chain (the trust anchor). */
    public X509Certificate root() {
        return chain.get(chain.size() - 1);
    }

    /** DNS suffixes this CA may issue names under; empty when unconstrained. */
    public List<String> permittedDns() {
        return rules.dns();
    }

    /** IP blocks this CA may issue addresses in ({@code 10.0.0.0/8}); empty means none under DNS constraints. */
    public List<String> permittedIp() {
        return rules.ip().stream().map(Object::toString).toList();
    }

    /** Domains the hosts of issued URIs must lie in; empty means none under DNS constraints. */
    public List<String> permittedUriDomains() {
        return rules.uriDomains();
    }

    /** Trust-only TLS material that accepts certificates from this CA's root. */
    public TlsMaterial trustMaterial() {
        return TlsMaterial.builder().trust(root()).build();
    }

    /** Issues a certificate with a freshly generated key. */
    public IssuedCertificate issue(CertificateRequest request) {
        KeyPair pair = request.keyType.generate();
        X509Certificate cert = sign(request, pair.getPublic());
        return new IssuedCertificate(pair.getPrivate(), issuedChain(cert), root());
    }

    /**
     * Signs a PKCS#10 CSR (PEM) under {@code profile}: the CSR's signature is verified, its common name and SAN
     * request (DNS, IP, URI) are applied, and the profile and name constraints are enforced.
     */
    public IssuedCertificate signCsr(String csrPem, Profile profile, int days) {
        PKCS10CertificationRequest csr = Pem.csr(csrPem);
        PublicKey publicKey;
        try {
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(Pem.BC)
                    .build(csr.getSubjectPublicKeyInfo()))) {
                throw new IllegalArgumentException("the CSR's signature does not verify: it was altered or "
                        + "not signed by the key it carries");
            }
            publicKey = new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter()
                    .getPublicKey(csr.getSubjectPublicKeyInfo());
        } catch (OperatorCreationException | PKCSException | IOException e) {
            throw new IllegalArgumentException("cannot verify the CSR: " + e.getMessage(), e);
        }
        CertificateRequest request = CertificateRequest.of(profile).days(days);
        String cn = firstCn(csr.getSubject());
        if (cn != null) {
            request.commonName(cn);
        }
        for (var attr : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
            Extensions ext = Extensions.getInstance(attr.getAttrValues().getObjectAt(0));
            GeneralNames sans = GeneralNames.fromExtensions(ext, Extension.subjectAlternativeName);
            if (sans == null) {
                continue;
            }
            for (GeneralName n : sans.getNames()) {
                switch (n.getTagNo()) {
                    case GeneralName.dNSName -> request.dns(DERIA5String.getInstance(n.getName()).getString());
                    case GeneralName.iPAddress -> request.ip(ipText(n));
                    case GeneralName.uniformResourceIdentifier ->
                            request.uri(DERIA5String.getInstance(n.getName()).getString());
                    default -> throw new IllegalArgumentException("the CSR asks for a subject alternative name of "
                            + "type " + n.getTagNo() + ", which fedlink does not issue");
                }
            }
        }
        if (request.dnsNames.isEmpty() && request.ipAddresses.isEmpty() && cn != null && HostNames.isDnsName(cn)
                && (profile == Profile.SERVER || profile == Profile.PEER)) {
            request.dns(cn); // openssl's classic CSR puts the host name only in the CN, as the FATE guide does
        }
        request.publicKey = publicKey;
        X509Certificate cert = sign(request, publicKey);
        return new IssuedCertificate(null, issuedChain(cert), root());
    }

    private static String ipText(GeneralName n) {
        byte[] raw = org.bouncycastle.asn1.ASN1OctetString.getInstance(n.getName()).getOctets();
        try {
            return java.net.InetAddress.getByAddress(raw).getHostAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("the CSR holds an IP address of " + raw.length + " bytes");
        }
    }

    private List<X509Certificate> issuedChain(X509Certificate leaf) {
        List<X509Certificate> out = new ArrayList<>();
        out.add(leaf);
        out.addAll(chain.subList(0, chain.size() - 1)); // intermediates, not the root
        return out;
    }

    private synchronized X509Certificate sign(CertificateRequest request, PublicKey subjectKey) {
        request.validate();
        rules.check(request);
        Instant now = Instant.now();
        Instant[] window = request.window(now);
        Instant caEnd = certificate().getNotAfter().toInstant();
        if (window[1].isAfter(caEnd)) {
            throw new IllegalArgumentException("requested validity until " + window[1] + " outlives the CA ("
                    + caEnd + ")");
        }
        BigInteger serial = newSerial();
        try {
            String cn = request.effectiveCommonName();
            X500NameBuilder name = new X500NameBuilder(BCStyle.INSTANCE);
            X500Name subject = cn == null ? name.build() : name.addRDN(BCStyle.CN, cn).build();
            JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(certificate(), serial,
                    Date.from(window[0]), Date.from(window[1]), subject, subjectKey);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyType.of(subjectKey).isRsa()
                    ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment : KeyUsage.digitalSignature));
            List<KeyPurposeId> eku = new ArrayList<>();
            if (request.profile.serverAuth()) {
                eku.add(KeyPurposeId.id_kp_serverAuth);
            }
            if (request.profile.clientAuth()) {
                eku.add(KeyPurposeId.id_kp_clientAuth);
            }
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(eku.toArray(KeyPurposeId[]::new)));
            List<GeneralName> sans = new ArrayList<>();
            request.dnsNames.forEach(d -> sans.add(new GeneralName(GeneralName.dNSName, d)));
            request.ipAddresses.forEach(ip -> sans.add(new GeneralName(GeneralName.iPAddress, ip)));
            request.uris.forEach(u -> sans.add(new GeneralName(GeneralName.uniformResourceIdentifier, u.toString())));
            if (!sans.isEmpty()) { // critical when the subject is empty (RFC 5280 4.2.1.6)
                b.addExtension(Extension.subjectAlternativeName, cn == null,
                        new GeneralNames(sans.toArray(GeneralName[]::new)));
            }
            b.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(subjectKey));
            b.addExtension(Extension.authorityKeyIdentifier, false,
                    utils.createAuthorityKeyIdentifier(certificate()));
            X509Certificate cert = convert(b.build(signer()));
            index.put(serial, new IndexEntry(serial, cn == null ? "DNS:" + request.dnsNames.iterator().next()
                    : cert.getSubjectX500Principal().getName(), cert.getNotAfter().toInstant(), null, null));
            return cert;
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot issue a certificate for " + request.dnsNames + request.ipAddresses
                    + ": " + e.getMessage(), e);
        }
    }

    private static BigInteger newSerial() {
        return new BigInteger(119, RANDOM).setBit(118); // positive, 15 bytes, always at least 64 random bits
    }

    private ContentSigner signer() {
        try {
            return new JcaContentSignerBuilder(KeyType.signatureAlgorithmFor(certificate().getPublicKey()))
                    .build(key);
        } catch (OperatorCreationException e) {
            throw new IllegalStateException("cannot sign with the CA key: " + e.getMessage(), e);
        }
    }

    private static X509Certificate convert(X509CertificateHolder holder) throws GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(holder);
    }

    /**
     * Revokes an issued certificate. Revoking twice keeps the first revocation.
     *
     * @throws IllegalArgumentException if this CA never issued {@code serial}
     */
    public synchronized void revoke(BigInteger serial, RevocationReason reason) {
        IndexEntry e = index.get(serial);
        if (e == null) {
            throw new IllegalArgumentException("serial " + serial.toString(16) + " was not issued by this CA");
        }
        if (!e.revoked()) {
            index.put(serial, new IndexEntry(serial, e.subject(), e.notAfter(), Instant.now(),
                    Objects.requireNonNull(reason, "reason")));
        }
    }

    /** A CRL listing every revoked certificate, valid for {@code validity}. */
    public synchronized X509CRL crl(Duration validity) {
        Instant now = Instant.now();
        try {
            X509v2CRLBuilder b = new X509v2CRLBuilder(X500Name.getInstance(
                    certificate().getSubjectX500Principal().getEncoded()), Date.from(now.minus(Duration.ofMinutes(5))));
            b.setNextUpdate(Date.from(now.plus(validity)));
            for (IndexEntry e : index.values()) {
                if (e.revoked()) {
                    b.addCRLEntry(e.serial(), Date.from(e.revokedAt()), e.reason().code());
                }
            }
            b.addExtension(Extension.authorityKeyIdentifier, false,
                    new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(certificate()));
            b.addExtension(Extension.cRLNumber, false, new CRLNumber(BigInteger.valueOf(++crlNumber)));
            return new JcaX509CRLConverter().getCRL(b.build(signer()));
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot build the CRL: " + e.getMessage(), e);
        }
    }

    /** A CRL valid for 7 days. */
    public X509CRL crl() {
        return crl(Duration.ofDays(7));
    }

    /** The issued index, oldest first. */
    public synchronized List<IndexEntry> issued() {
        return List.copyOf(index.values());
    }

    // ---- persistence -----------------------------------------------------------------------------------------------

    /** File names inside a CA folder. */
    static final String CERT_FILE = "ca.pem";
    static final String KEY_FILE = "ca-key.pem";
    static final String INDEX_FILE = "index.tsv";
    private static final String INDEX_HEADER = "# serial\tnot_after\trevoked_at\treason\tsubject";

    /** The files of a CA folder, in the order written. */
    public static final List<String> FILES = List.of(CERT_FILE, KEY_FILE, INDEX_FILE);

    /**
     * Saves the CA into {@code dir} (created with mode 0700 if missing; an existing folder keeps its mode):
     * {@code ca.pem} (chain), {@code ca-key.pem} (PKCS#8, mode 0600, encrypted when {@code password} is given) and
     * {@code index.tsv} (issued serials and revocations, crlNumber), replacing them as one unit.
     */
    public synchronized void save(Path dir, char[] password) throws IOException {
        files(dir, password).commit(FileSet.NOTHING);
    }

    /**
     * Saves a new CA into {@code dir} like {@link #save(Path, char[])}, refusing when any CA file is already there.
     *
     * @throws IllegalArgumentException naming the files found
     */
    public synchronized void saveNew(Path dir, char[] password) throws IOException {
        FileSet files = files(dir, password);
        if (!files.existing().isEmpty()) {
            throw new IllegalArgumentException("'" + dir + "' already holds CA files " + files.existing().stream()
                    .map(p -> p.getFileName().toString()).toList() + ": refusing to overwrite a CA; choose another "
                    + "folder");
        }
        files.commit(FileSet.NOTHING);
    }

    /** Saves only {@code index.tsv} (issued serials, revocations, CRL number) into the CA folder {@code dir}. */
    public synchronized void saveIndex(Path dir) throws IOException {
        new FileSet().add(dir.resolve(INDEX_FILE), indexText(), false).commit(FileSet.NOTHING);
    }

    private FileSet files(Path dir, char[] password) {
        return new FileSet().add(dir.resolve(CERT_FILE), Pem.encode(chain), false)
                .add(dir.resolve(KEY_FILE), password == null || password.length == 0
                        ? Pem.pkcs8(key) : Pem.encryptedPkcs8(key, password), true)
                .add(dir.resolve(INDEX_FILE), indexText(), false);
    }

    private String indexText() {
        StringBuilder sb = new StringBuilder(INDEX_HEADER).append('\n');
        sb.append("# crl_number\t").append(crlNumber).append('\n');
        for (IndexEntry e : index.values()) {
            sb.append(e.serial().toString(16)).append('\t').append(e.notAfter()).append('\t')
                    .append(e.revoked() ? e.revokedAt().toString() : "-").append('\t')
                    .append(e.revoked() ? e.reason().name().toLowerCase(Locale.ROOT) : "-").append('\t')
                    .append(e.subject().replace('\t', ' ').replace('\n', ' ')).append('\n');
        }
        return sb.toString();
    }

    /** Saves with an unencrypted key; see {@link #save(Path, char[])}. */
    public void save(Path dir) throws IOException {
        save(dir, null);
    }

    /**
     * Loads a CA saved by {@link #save}. Nothing is changed on disk; a missing or damaged file fails with a message
     * naming the file (and line).
     */
    public static CertificateAuthority load(Path dir, char[] password) throws IOException {
        SecureFiles.requireNotDangling(dir);
        String certPem = readFile(dir.resolve(CERT_FILE));
        String keyPem = readFile(dir.resolve(KEY_FILE));
        CertificateAuthority ca;
        try {
            ca = fromPem(certPem, keyPem, password);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(dir + ": " + e.getMessage(), e);
        }
        Path indexFile = dir.resolve(INDEX_FILE);
        if (Files.exists(indexFile)) {
            ca.readIndex(indexFile);
        }
        return ca;
    }

    /** Loads with an unencrypted key. */
    public static CertificateAuthority load(Path dir) throws IOException {
        return load(dir, null);
    }

    private static String readFile(Path f) throws IOException {
        try {
            return Files.readString(f, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(f + ": not found; is this a CA folder made by 'fedlink pki ca create'?");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new IllegalArgumentException(f + ": not a PEM text file");
        }
    }

    private void readIndex(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String where = file + ":" + (i + 1) + ": ";
            if (line.startsWith("# crl_number\t")) {
                try {
                    crlNumber = Long.parseLong(line.substring(13).strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(where + "bad crl_number");
                }
                continue;
            }
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length != 5) {
                throw new IllegalArgumentException(where + "expected 5 tab-separated fields, found " + f.length);
            }
            try {
                BigInteger serial = new BigInteger(f[0], 16);
                Instant revokedAt = f[2].equals("-") ? null : Instant.parse(f[2]);
                RevocationReason reason = f[3].equals("-") ? null : RevocationReason.parse(f[3]);
                if ((revokedAt == null) != (reason == null)) {
                    throw new IllegalArgumentException("revoked_at and reason must both be set or both be '-'");
                }
                index.put(serial, new IndexEntry(serial, f[4], Instant.parse(f[1]), revokedAt, reason));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(where + e.getMessage(), e);
            }
        }
    }

    /**
     * A CA from an existing certificate (chain, CA first) and key, e.g. made by {@code openssl req -x509} as in the
     * FATE guide. The key may be PKCS#8, PKCS#1 or SEC1, encrypted or not.
     *
     * @throws IllegalArgumentException if the certificate is not a CA, or the key does not belong to it
     */
    public static CertificateAuthority fromPem(String certificateChainPem, String keyPem, char[] password) {
        List<X509Certificate> chain = Pem.certificates(certificateChainPem);
        X509Certificate cert = chain.get(0);
        if (cert.getBasicConstraints() < 0) {
            throw new IllegalArgumentException("certificate " + cert.getSubjectX500Principal().getName()
                    + " is not a CA certificate (basicConstraints cA is not set)");
        }
        PrivateKey key = Pem.privateKey(keyPem, password);
        requireMatch(key, cert.getPublicKey(), cert);
        return new CertificateAuthority(key, chain, NameRules.of(cert));
    }

    private static void requireMatch(PrivateKey key, PublicKey pub, X509Certificate cert) {
        try {
            String alg = KeyType.signatureAlgorithmFor(pub);
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

    private static String firstCn(X500Name name) {
        var rdns = name.getRDNs(BCStyle.CN);
        return rdns.length == 0 ? null : IETFUtils.valueToString(rdns[0].getFirst().getValue());
    }

    @Override
    public String toString() {
        return "CertificateAuthority[" + certificate().getSubjectX500Principal().getName() + ", chain " + chain.size()
                + (rules.isEmpty() ? "" : ", permitted " + rules.dns() + rules.ip() + rules.uriDomains()) + ", issued " + index.size() + "]";
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

        /** Creates the CA: a new key, and a certificate self-signed (root) or signed by the parent. */
        public CertificateAuthority create() {
            int pl = pathLength != null ? pathLength : parent == null ? 1 : 0;
            NameRules effective = new NameRules(permitted, permittedIp, permittedUri);
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
            }
            KeyPair pair = keyType.generate();
            Instant now = Instant.now();
            Instant end = now.plus(Duration.ofDays(days));
            if (parent != null && end.isAfter(parent.certificate().getNotAfter().toInstant())) {
                end = parent.certificate().getNotAfter().toInstant();
            }
            try {
                X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, commonName).build();
                JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
                X500Name issuer = parent == null ? subject
                        : X500Name.getInstance(parent.certificate().getSubjectX500Principal().getEncoded());
                X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, newSerial(),
                        Date.from(now.minus(Duration.ofMinutes(5))), Date.from(end), subject, pair.getPublic());
                b.addExtension(Extension.basicConstraints, true, new BasicConstraints(pl));
                b.addExtension(Extension.keyUsage, true,
                        new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
                b.addExtension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(pair.getPublic()));
                if (parent != null) {
                    b.addExtension(Extension.authorityKeyIdentifier, false,
                            utils.createAuthorityKeyIdentifier(parent.certificate()));
                } else {
                    b.addExtension(Extension.authorityKeyIdentifier, false,
                            utils.createAuthorityKeyIdentifier(pair.getPublic()));
                }
                if (!effective.isEmpty()) {
                    b.addExtension(Extension.nameConstraints, true, effective.extension());
                }
                ContentSigner signer;
                if (parent == null) {
                    signer = new JcaContentSignerBuilder(keyType.signatureAlgorithm()).build(pair.getPrivate());
                } else {
                    signer = parent.signer();
                }
                X509Certificate cert = convert(b.build(signer));
                List<X509Certificate> chain = new ArrayList<>();
                chain.add(cert);
                if (parent != null) {
                    chain.addAll(parent.chain);
                    synchronized (parent) {
                        parent.index.put(cert.getSerialNumber(), new IndexEntry(cert.getSerialNumber(),
                                cert.getSubjectX500Principal().getName(), cert.getNotAfter().toInstant(), null, null));
                    }
                }
                return new CertificateAuthority(pair.getPrivate(), chain, effective);
            } catch (GeneralSecurityException | CertIOException | OperatorCreationException e) {
                throw new IllegalStateException("cannot create CA " + commonName + ": " + e.getMessage(), e);
            }
        }
    }
}
