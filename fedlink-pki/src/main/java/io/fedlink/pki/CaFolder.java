package io.fedlink.pki;

import io.fedlink.api.FileSet;
import io.fedlink.api.PartyIds;
import io.fedlink.api.PemCodec;
import io.fedlink.api.SecureFiles;
import io.fedlink.pki.CertificateAuthority.IndexEntry;
import io.fedlink.pki.internal.Pem;
import java.io.Closeable;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A CA as a folder, and the rules every command on one follows: {@code ca.pem} (chain), {@code ca-key.pem} (PKCS#8,
 * mode 0600, encrypted when a password is given) and {@code index.tsv} (the issued index); beside them the CRL, the
 * one-time enrollment tokens, the lock and, during a root rollover, the previous CA and the trust bundle
 * ({@link #OWN_FILES}). Saving writes the files as one unit ({@link FileSet}); loading never writes, and a missing or
 * damaged file fails naming it. Every read-modify-write of the folder runs under its {@link #lock()}, shared with
 * {@code fedlink pki serve} and other commands on the same folder.
 *
 * <pre>{@code
 * Path dir = Path.of("fate-ca");
 * CaFolder folder = CaFolder.of(dir, null);                      // null: the key is not encrypted
 * try (Closeable lock = folder.lock()) {
 *     CertificateAuthority ca = folder.load();
 *     IssuedCertificate proxy = ca.issue(CertificateRequest.server("proxy.fate.org"));
 *     ca.saveIndex(dir);                                         // appends the new index line
 * }
 * String token = folder.createToken("9999", Duration.ofHours(1));  // a party enrolls with it once
 * }</pre>
 */
public final class CaFolder {
    /** The CA's certificate chain. */
    public static final String CERT_FILE = "ca.pem";
    /** The CA's private key. */
    public static final String KEY_FILE = "ca-key.pem";
    /** The issued index. */
    public static final String INDEX_FILE = "index.tsv";
    /** The trust bundle: the current root, and the previous one during a rollover's overlap. */
    public static final String BUNDLE = CaRollover.BUNDLE;
    /** The folder of the previous CA during a rollover's overlap (a CA folder itself). */
    public static final String PREVIOUS = CaRollover.PREVIOUS;
    /** Where retired roots are kept (certificate and index, no key). */
    public static final String RETIRED = CaRollover.RETIRED;
    /** The folder's own files, which no issued certificate, key store or CRL other than its own may be written over. */
    public static final Set<String> OWN_FILES = Set.of(CERT_FILE, KEY_FILE, INDEX_FILE, "crl.pem", "crl.der",
            "truststore.jks", BUNDLE, CaFolderLock.FILE, EnrollmentTokens.FILE);
    static final List<String> FILES = List.of(CERT_FILE, KEY_FILE, INDEX_FILE);

    private final Path dir;
    private final char[] password;

    private CaFolder(Path dir, char[] password) {
        this.dir = Objects.requireNonNull(dir, "dir");
        this.password = password == null ? null : password.clone();
    }

    /** The CA folder {@code dir}, its key decrypted with {@code password} ({@code null}: not encrypted). */
    public static CaFolder of(Path dir, char[] password) {
        return new CaFolder(dir, password);
    }

    /**
     * Loads the folder's CA, refusing a folder that is a dangling link and an encrypted key without a password,
     * naming what to give.
     */
    public CertificateAuthority load() throws IOException {
        SecureFiles.requireNotDangling(dir);
        Path key = dir.resolve(KEY_FILE);
        if (password == null && Files.isRegularFile(key)
                && Files.readString(key, StandardCharsets.US_ASCII).contains("ENCRYPTED")) {
            throw new IllegalArgumentException("the CA key '" + key + "' is encrypted: give the file holding "
                    + "its password with --ca-password-file FILE");
        }
        return load(dir, password);
    }

    /**
     * Saves the new CA {@code ca} into this folder (created with mode 0700 if missing): {@code ca.pem} (chain),
     * {@code ca-key.pem} (PKCS#8, mode 0600, encrypted with the folder's password when one was given) and
     * {@code index.tsv}, all or nothing.
     *
     * @throws IllegalArgumentException when any CA file is already there, naming the files found
     */
    public void create(CertificateAuthority ca) throws IOException {
        ca.saveNew(dir, password);
    }

    /**
     * Saves what {@code ca} (this folder's CA) issued and revoked since it was loaded into {@code index.tsv}: under
     * the folder's lock, what another writer appended meanwhile is read first, then {@code ca}'s new records are
     * appended as whole lines, so concurrent writers never lose a line.
     *
     * @throws IllegalArgumentException when the folder holds another CA now (e.g. after a rollover)
     */
    public void saveIndex(CertificateAuthority ca) throws IOException {
        ca.saveIndex(dir);
    }

    /**
     * Takes the folder's lock (waiting up to a minute for another holder): held around every read-modify-write of
     * the index, the tokens or a rollover. A folder without {@code ca.pem} is refused first, naming what is missing.
     */
    public Closeable lock() throws IOException {
        if (!Files.isRegularFile(dir.resolve(CERT_FILE))) {
            load(); // fails naming what is missing
        }
        return CaFolderLock.acquire(dir);
    }

    /**
     * Refuses to write {@code target} when it is one of this folder's {@link #OWN_FILES} (other than those in
     * {@code allowed}), naming it.
     */
    public void requireNotOwnFile(Path target, Set<String> allowed) throws IOException {
        String name = target.getFileName() == null ? "" : target.getFileName().toString();
        Path parent = target.toAbsolutePath().normalize().getParent();
        if (OWN_FILES.contains(name) && !allowed.contains(name) && parent != null && Files.isDirectory(parent)
                && Files.isDirectory(dir) && Files.isSameFile(parent, dir)) {
            throw new IllegalArgumentException("'" + target + "' is a file of the CA folder " + dir + ": refusing "
                    + "to write over it, even with --force; choose another --out");
        }
    }

    /**
     * Revokes {@code serial} under the lock: in this CA's index or, during a rollover's overlap, the previous root's.
     *
     * @return the CA folder whose index recorded the revocation: this one, or its {@link #PREVIOUS} folder
     * @throws IllegalArgumentException when neither CA issued {@code serial}
     */
    public Path revoke(BigInteger serial, RevocationReason reason) throws IOException {
        try (Closeable lock = lock()) {
            CertificateAuthority authority = load();
            if (authority.entry(serial) == null && CaRollover.inProgress(dir)) { // a certificate of the old root
                Path previous = dir.resolve(PREVIOUS);
                CertificateAuthority old = load(previous, password);
                old.revoke(serial, reason);
                old.saveIndex(previous);
                return previous;
            }
            authority.revoke(serial, reason);
            authority.saveIndex(dir);
            return dir;
        }
    }

    /** The folder's index, oldest first, one line per certificate for people (see {@code IndexEntry.describe}). */
    public List<String> list() throws IOException {
        return load().issued().stream().map(IndexEntry::describe).toList();
    }

    /** The CA certificate file to hand to parties: the trust bundle during a rollover, else {@code ca.pem}. */
    public Path trustFile() {
        return Files.isRegularFile(dir.resolve(BUNDLE)) ? dir.resolve(BUNDLE) : dir.resolve(CERT_FILE);
    }

    /**
     * Starts replacing the folder's root with no outage: a new root (same name constraints and path length, a new
     * key) issues from now on, cross-signed by the old one, which is kept in {@link #PREVIOUS} until
     * {@link #retire}; {@link #BUNDLE} holds both roots.
     *
     * @param commonName the new root's name, or {@code null} for the old one's next generation ({@code <cn> G2})
     * @param keyType    the new key's type, or {@code null} for the old root's
     * @param days       the new root's validity
     * @return the new root
     * @throws IllegalArgumentException when a rollover is already in progress, the CA is an intermediate, or its
     *                                  name would not change
     */
    public X509Certificate rollover(String commonName, KeyType keyType, int days) throws IOException {
        return CaRollover.start(dir, password, commonName, keyType, days).newRoot();
    }

    /**
     * Ends a rollover: the previous root leaves the bundle and moves to {@link #RETIRED} (its key deleted).
     *
     * @param revokeSuperseded first revoke (as superseded) the previous root's certificates of parties that already
     *                         renewed under the new CA (selected by recorded party id, never by subject text)
     * @param force            retire even while certificates of the previous root are still valid and unrevoked
     * @return what was done, as lines for the operator: one per certificate revoked as superseded ({@code ==> Revoked
     *         ...}) and per certificate retired while valid ({@code ==> Forced: ...}), then where the old root is kept
     * @throws IllegalArgumentException when no rollover is in progress, or certificates of the previous root are
     *                                  still valid and unrevoked (naming them) and {@code force} is not given
     */
    public List<String> retire(boolean revokeSuperseded, boolean force, Instant now) throws IOException {
        return CaRollover.retire(dir, revokeSuperseded, force, now).describe(dir);
    }

    /**
     * What {@link #retire} did.
     *
     * @param oldRoot           the retired root
     * @param keptIn            where its certificate and index are kept
     * @param revokedSuperseded its certificates revoked as superseded by their parties' renewals
     * @param forced            its certificates still valid and unrevoked, retired anyway ({@code force})
     */
    record Retired(X509Certificate oldRoot, Path keptIn, List<IndexEntry> revokedSuperseded,
                   List<IndexEntry> forced) {

        /** The operator's report, the CA folder being {@code dir}. */
        List<String> describe(Path dir) {
            List<String> lines = new ArrayList<>();
            revokedSuperseded.forEach(e -> lines.add("==> Revoked " + e.serial().toString(16) + " (party " + e.party()
                    + ", superseded by its renewal under the new CA)"));
            forced.forEach(e -> lines.add("==> Forced: " + e.subject() + " serial " + e.serial().toString(16)
                    + " (valid until " + e.notAfter() + ") is no longer trusted by peers after their next renewal"));
            lines.add("==> Retired root " + oldRoot.getSubjectX500Principal().getName() + ": " + dir.resolve(BUNDLE)
                    + " holds the new root only; the old certificate and index are kept in " + keptIn
                    + " (its key was deleted)");
            lines.add("Parties drop the old root from their ca.pem at their next renewal.");
            return lines;
        }
    }

    /**
     * Creates a one-time enrollment token for {@code partyId}, valid for {@code ttl}; returns the token text, which
     * is stored only hashed: hand it to the party once (a 0600 file), never on a command line.
     */
    public String createToken(String partyId, Duration ttl) throws IOException {
        String party = PartyIds.canonical(partyId);
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("the token lifetime must be positive, was " + ttl);
        }
        try (CaFolderLock lock = CaFolderLock.acquire(dir)) {
            EnrollmentTokens tokens = EnrollmentTokens.read(dir);
            String token = tokens.create(party, Instant.now().plus(ttl));
            new FileSet().add(dir.resolve(EnrollmentTokens.FILE), tokens.text(), true).commit(FileSet.NOTHING);
            return token;
        }
    }

    /**
     * Removes a party from the CA as one act (what {@code fedlink pki party revoke ID} runs): revokes, with reason
     * {@code cessation-of-operation}, every unexpired certificate the index records for {@code partyId} (any case;
     * a superseded one still in its overlap is revoked now), during a rollover's overlap in the previous root's index
     * too; ends the party's unused enrollment tokens (a token created afterwards works: that is how the operator
     * lets it back); and republishes {@code crl.pem} in the CA folder (and in {@code previous-ca/} when it revoked
     * there). A running {@code pki serve} on the folder refuses the party's renewals from its next request. Relying
     * parties that do not load the CRL keep accepting the certificates until they expire.
     *
     * @return how many certificates were revoked (0 when none was valid; the tokens and CRL are handled anyway)
     * @throws IllegalArgumentException for an invalid party id
     */
    public int revokeParty(String partyId) throws IOException {
        if (partyId == null || !PartyIds.isValid(partyId.strip())) {
            throw new IllegalArgumentException("invalid party id '" + partyId + "': " + PartyIds.RULE);
        }
        try (CaFolderLock lock = CaFolderLock.acquire(dir)) {
            Instant now = Instant.now();
            int n = 0;
            Path previous = dir.resolve(PREVIOUS);
            if (CaRollover.inProgress(dir)) {
                n += revokeIn(previous, partyId, now);
            }
            EnrollmentTokens tokens = EnrollmentTokens.read(dir);
            FileSet files = new FileSet();
            if (tokens.expireUnused(partyId, now) > 0) {
                files.add(dir.resolve(EnrollmentTokens.FILE), tokens.text(), true);
            }
            files.commit(FileSet.NOTHING);
            return n + revokeIn(dir, partyId, now);
        }
    }

    /** Revokes the party's unexpired certificates in the CA folder {@code in}, and writes its CRL. */
    private int revokeIn(Path in, String partyId, Instant now) throws IOException {
        CertificateAuthority ca = load(in, password);
        int n = 0;
        for (IndexEntry e : ca.issuedTo(partyId)) {
            if (e.notAfter().isAfter(now) && !e.revokedAt(now)) {
                ca.revoke(e.serial(), RevocationReason.CESSATION_OF_OPERATION, now);
                n++;
            }
        }
        new FileSet().add(in.resolve("crl.pem"), PemCodec.crl(ca.crl()), false).commit(() -> ca.saveIndex(in));
        return n;
    }

    /** The three files of a CA, ready to commit. */
    static FileSet files(Path dir, List<X509Certificate> chain, PrivateKey key, char[] password, CaIndex index) {
        return new FileSet().add(dir.resolve(CERT_FILE), PemCodec.certificates(chain), false)
                .add(dir.resolve(KEY_FILE), password == null || password.length == 0
                        ? PemCodec.privateKey(key) : Pem.encryptedPkcs8(key, password), true)
                .add(dir.resolve(INDEX_FILE), index.text(), false);
    }

    /** Commits {@code files}, refusing when any of them exists already. */
    static void saveNew(Path dir, FileSet files) throws IOException {
        if (!files.existing().isEmpty()) {
            throw new IllegalArgumentException("'" + dir + "' already holds CA files " + files.existing().stream()
                    .map(p -> p.getFileName().toString()).toList() + ": refusing to overwrite a CA; choose another "
                    + "folder");
        }
        files.commit(FileSet.NOTHING);
        CaFolderLock.ensureFile(dir); // made now, so a later refused command leaves the folder as it was
    }

    /** Saves only {@code index.tsv}. */
    static void saveIndex(Path dir, CaIndex index) throws IOException {
        new FileSet().add(dir.resolve(INDEX_FILE), index.text(), false).commit(FileSet.NOTHING);
    }

    /** Loads the CA in {@code dir}. */
    static CertificateAuthority load(Path dir, char[] password) throws IOException {
        SecureFiles.requireNotDangling(dir);
        String certPem = read(dir.resolve(CERT_FILE));
        String keyPem = read(dir.resolve(KEY_FILE));
        CertificateAuthority ca;
        try {
            ca = CertificateAuthority.fromPem(certPem, keyPem, password);
        } catch (IllegalArgumentException e) {
            String hint = Files.isRegularFile(dir.resolve(CaRollover.PREVIOUS).resolve(CERT_FILE))
                    && e.getMessage().contains("does not belong")
                    ? " (a 'ca rollover' may have been cut short: the previous CA is intact in " + CaRollover.PREVIOUS
                            + "/; copy its ca.pem, ca-key.pem and index.tsv back, remove " + CaRollover.PREVIOUS
                            + "/ and " + CaRollover.BUNDLE + ", and roll over again)" : "";
            throw new IllegalArgumentException(dir + ": " + e.getMessage() + hint, e);
        }
        Path cross = dir.resolve(CaRollover.PREVIOUS).resolve(CaRollover.CROSS);
        if (Files.isRegularFile(cross)) { // a rollover's overlap: leaves carry the new root signed by the old one
            X509Certificate signed = PemCodec.readCertificate(read(cross));
            if (!signed.getPublicKey().equals(ca.certificate().getPublicKey())) {
                throw new IllegalArgumentException(cross + ": not a certificate of the CA in " + dir + "'s key");
            }
            ca = ca.withCrossCertificates(List.of(signed));
        }
        Path indexFile = dir.resolve(INDEX_FILE);
        if (Files.exists(indexFile)) {
            ca.readIndex(indexFile);
        }
        return ca;
    }

    static String read(Path f) throws IOException {
        try {
            return Files.readString(f, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(f + ": not found; is this a CA folder made by 'fedlink pki ca create'?");
        } catch (MalformedInputException e) {
            throw new IllegalArgumentException(f + ": not a PEM text file");
        }
    }
}
