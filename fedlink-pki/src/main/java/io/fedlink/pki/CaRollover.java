package io.fedlink.pki;

import io.fedlink.api.FileSet;
import io.fedlink.api.PemCodec;
import io.fedlink.api.SecureFiles;
import io.fedlink.pki.CertificateAuthority.IndexEntry;
import io.fedlink.pki.internal.Keys;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;

/**
 * Replacing a CA folder's root with no outage, in two steps.
 *
 * <p>{@link #start}: a new root (same name constraints and path length, a new key) becomes the issuer of the folder
 * ({@code ca.pem}, {@code ca-key.pem}, a fresh {@code index.tsv}); the old CA moves, whole, to
 * {@code previous-ca/} (its key, its index, so the certificates it issued can still be revoked and its CRL
 * published: {@code --ca-dir <dir>/previous-ca}), together with {@code cross-signed.pem}, the new root's
 * certificate signed by the old root. {@code ca-bundle.pem} holds both roots. During this overlap every leaf the new
 * CA issues is sent with the cross-signed certificate, so a peer that still trusts only the old root accepts it; a
 * peer that already has the bundle accepts both; the enrollment server hands out the bundle and accepts renewals
 * authenticated by certificates of either root. Parties renew (their renewer writes the bundle as their CA file).
 *
 * <p>{@link #retire}: once no certificate of the old root is still valid and unrevoked, the old root leaves:
 * {@code previous-ca/} moves to {@code retired-ca/<time>-<serial>/} (certificate and index kept, its key deleted),
 * {@code ca-bundle.pem} holds the new root alone, and new leaves no longer carry the cross-signed certificate.
 * Parties' next renewals drop the old root from their CA files.
 *
 * <p>Every step runs under the folder's {@link CaFolderLock} and writes its files as one {@link FileSet}; a refusal
 * changes nothing.
 */
final class CaRollover {
    /** The folder of the previous CA during an overlap. */
    static final String PREVIOUS = "previous-ca";
    /** The new root's certificate signed by the previous root, inside {@link #PREVIOUS}. */
    static final String CROSS = "cross-signed.pem";
    /** The trust bundle: the current root, and the previous one during an overlap. */
    static final String BUNDLE = "ca-bundle.pem";
    /** Where retired roots are kept (certificate and index, no key). */
    static final String RETIRED = "retired-ca";
    private static final Pattern GENERATION = Pattern.compile("^(.*) G(\\d{1,4})$");
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);
    private static final int LISTED = 20;

    private CaRollover() {}

    /** What {@link #start} did. */
    record Started(X509Certificate newRoot, X509Certificate oldRoot, X509Certificate crossSigned) {}

    /** Whether {@code dir} is in a rollover's overlap (a previous CA is kept). */
    static boolean inProgress(Path dir) {
        return Files.isRegularFile(dir.resolve(PREVIOUS).resolve(CaFolder.CERT_FILE));
    }

    /** The default name of the successor of a root named {@code cn}: {@code <cn> G2}, then G3... */
    static String successorName(String cn) {
        Matcher m = GENERATION.matcher(cn);
        return m.matches() ? m.group(1) + " G" + (Integer.parseInt(m.group(2)) + 1) : cn + " G2";
    }

    /**
     * Starts a rollover of the root CA in {@code dir}.
     *
     * @param password   the CA key's password (the new key gets the same), or {@code null}
     * @param commonName the new root's name, or {@code null} for {@link #successorName}
     * @param keyType    the new key's type, or {@code null} for the old root's
     * @param days       the new root's validity
     * @throws IllegalArgumentException when a rollover is already in progress, the CA is an intermediate, or its
     *                                  name would not change
     */
    static Started start(Path dir, char[] password, String commonName, KeyType keyType, int days)
            throws IOException {
        try (CaFolderLock lock = CaFolderLock.acquire(dir)) {
            if (inProgress(dir)) {
                throw new IllegalArgumentException("a rollover is already in progress in " + dir + " (" + PREVIOUS
                        + "/ exists): finish it with 'fedlink pki ca retire --ca-dir " + dir + "' first");
            }
            CertificateAuthority old = CaFolder.load(dir, password);
            X509Certificate oldRoot = old.certificate();
            String oldName = cn(oldRoot);
            String name = commonName != null ? commonName : successorName(oldName == null ? "fedlink CA" : oldName);
            if (name.equals(oldName)) {
                throw new IllegalArgumentException("the new root must have another name than '" + oldName + "' (peers "
                        + "and CRLs tell roots apart by name): choose one with --name");
            }
            CertificateAuthority.Successor s = old.successor(name,
                    keyType != null ? keyType : Keys.of(oldRoot.getPublicKey()), days);
            CertificateAuthority next = s.next();
            Path prev = dir.resolve(PREVIOUS);
            byte[] oldKey = Files.readAllBytes(dir.resolve(CaFolder.KEY_FILE)); // kept as it was (encrypted or not)
            FileSet files = new FileSet()
                    .add(prev.resolve(CaFolder.CERT_FILE), PemCodec.certificates(old.chain()), false)
                    .add(prev.resolve(CaFolder.KEY_FILE), oldKey, true)
                    .add(prev.resolve(CaFolder.INDEX_FILE), old.indexText(), false)
                    .add(prev.resolve(CROSS), PemCodec.certificates(List.of(s.crossSigned())), false)
                    .add(dir.resolve(BUNDLE), PemCodec.certificates(List.of(next.root(), oldRoot)), false)
                    .add(dir.resolve(CaFolder.KEY_FILE), next.keyPem(password), true)
                    .add(dir.resolve(CaFolder.CERT_FILE), PemCodec.certificates(next.chain()), false)
                    .add(dir.resolve(CaFolder.INDEX_FILE), next.indexText(), false);
            files.commit(FileSet.NOTHING);
            return new Started(next.root(), oldRoot, s.crossSigned());
        }
    }

    /**
     * The certificates of the previous root that are still valid at {@code now} and not revoked then (a superseded
     * one in its overlap counts; its cross signature on the new root excepted); empty outside a rollover.
     */
    static List<IndexEntry> outstanding(Path dir, Instant now) throws IOException {
        if (!inProgress(dir)) {
            return List.of();
        }
        Path prev = dir.resolve(PREVIOUS);
        CaIndex index = new CaIndex();
        index.read(prev.resolve(CaFolder.INDEX_FILE));
        BigInteger cross = Files.isRegularFile(prev.resolve(CROSS))
                ? PemCodec.readCertificate(CaFolder.read(prev.resolve(CROSS))).getSerialNumber() : null;
        // a superseded certificate in its overlap is still in use: outstanding until its revocation takes effect
        return index.entries().stream().filter(e -> !e.revokedAt(now) && e.notAfter().isAfter(now)
                && !e.serial().equals(cross)).toList();
    }

    /**
     * Ends the overlap: the previous root leaves the bundle and the folder.
     *
     * @param revokeSuperseded first revoke (as superseded) the previous root's certificates whose recorded party
     *                         already has an unrevoked certificate of the same profile from the new CA (the party
     *                         renewed); selected by serial and recorded party id, never by subject text (a
     *                         certificate without a recorded party is never selected: revoke it by serial)
     * @param force            retire even while certificates of the previous root are still valid and unrevoked
     *                         (peers stop trusting them at their next renewal)
     * @throws IllegalArgumentException when no rollover is in progress, or certificates of the previous root are
     *                                  still valid and unrevoked (naming them) and {@code force} is not given
     */
    static CaFolder.Retired retire(Path dir, boolean revokeSuperseded, boolean force, Instant now) throws IOException {
        try (CaFolderLock lock = CaFolderLock.acquire(dir)) {
            if (!inProgress(dir)) {
                throw new IllegalArgumentException("no rollover is in progress in " + dir + " (no " + PREVIOUS
                        + "/ folder): nothing to retire; start one with 'fedlink pki ca rollover'");
            }
            Path prev = dir.resolve(PREVIOUS);
            X509Certificate oldRoot = PemCodec.readCertificates(CaFolder.read(prev.resolve(CaFolder.CERT_FILE))).get(0);
            List<IndexEntry> outstanding = outstanding(dir, now);
            Set<String> renewed = renewedParties(dir);
            List<IndexEntry> superseded = outstanding.stream().filter(e -> renewed.contains(renewalKey(e))).toList();
            List<IndexEntry> revoked = List.of();
            if (revokeSuperseded && !superseded.isEmpty()) {
                CaIndex index = new CaIndex();
                index.read(prev.resolve(CaFolder.INDEX_FILE));
                superseded.forEach(e -> index.revoke(e.serial(), RevocationReason.SUPERSEDED, now));
                CaFolder.saveIndex(prev, index);
                revoked = superseded;
                outstanding = outstanding(dir, now);
            }
            if (!outstanding.isEmpty() && !force) {
                throw new IllegalArgumentException(refusal(dir, oldRoot, outstanding, renewed));
            }
            Path retiredDir = dir.resolve(RETIRED);
            SecureFiles.privateDirectory(retiredDir);
            Path kept = retiredDir.resolve(STAMP.format(now) + "-" + oldRoot.getSerialNumber().toString(16));
            Files.move(prev, kept, StandardCopyOption.ATOMIC_MOVE); // the overlap ends here, in one rename
            new FileSet().add(dir.resolve(BUNDLE), PemCodec.certificates(bundle(dir)), false).commit(FileSet.NOTHING);
            Files.deleteIfExists(kept.resolve(CaFolder.KEY_FILE)); // a retired root signs nothing again
            return new CaFolder.Retired(oldRoot, kept, revoked, force ? outstanding : List.of());
        }
    }

    /** The trust bundle of {@code dir}: its root, then the previous root during an overlap. */
    static List<X509Certificate> bundle(Path dir) throws IOException {
        List<X509Certificate> out = new ArrayList<>();
        List<X509Certificate> chain = PemCodec.readCertificates(CaFolder.read(dir.resolve(CaFolder.CERT_FILE)));
        out.add(chain.get(chain.size() - 1));
        if (inProgress(dir)) {
            List<X509Certificate> prev = PemCodec.readCertificates(CaFolder.read(dir.resolve(PREVIOUS)
                    .resolve(CaFolder.CERT_FILE)));
            out.add(prev.get(prev.size() - 1));
        }
        return out;
    }

    /** The recorded party and profile of each unrevoked certificate of the new CA in {@code dir}. */
    private static Set<String> renewedParties(Path dir) throws IOException {
        CaIndex index = new CaIndex();
        Path f = dir.resolve(CaFolder.INDEX_FILE);
        if (Files.exists(f)) {
            index.read(f);
        }
        return index.entries().stream().filter(e -> !e.revoked()).map(CaRollover::renewalKey)
                .filter(k -> k != null).collect(Collectors.toSet());
    }

    /** What a renewal keeps: the recorded party (canonical) and profile; {@code null} without a recorded party. */
    private static String renewalKey(IndexEntry e) {
        return e.party() == null ? null : CaIndex.partyKey(e.party()) + "\t" + e.profile();
    }

    private static String refusal(Path dir, X509Certificate oldRoot, List<IndexEntry> outstanding,
                                  Set<String> renewed) {
        List<IndexEntry> superseded = outstanding.stream().filter(e -> renewed.contains(renewalKey(e))).toList();
        List<IndexEntry> waiting = outstanding.stream().filter(e -> !renewed.contains(renewalKey(e))).toList();
        StringBuilder sb = new StringBuilder().append(outstanding.size()).append(" certificate(s) of the old root ")
                .append(oldRoot.getSubjectX500Principal().getName()).append(" are still valid and not revoked");
        if (!waiting.isEmpty()) {
            sb.append("; not renewed under the new CA yet: ").append(list(waiting))
                    .append(" (renew them: 'fedlink pki renew', or revoke them: 'fedlink pki revoke --ca-dir ")
                    .append(dir).append(" --serial S')");
        }
        if (!superseded.isEmpty()) {
            sb.append("; renewed under the new CA already (superseded): ").append(list(superseded))
                    .append(" (once every service reloaded its files, add --revoke-superseded, or wait until they "
                            + "expire)");
        }
        return sb.append("; --force retires the old root anyway, and peers stop trusting those certificates at "
                + "their next renewal").toString();
    }

    private static String list(List<IndexEntry> entries) {
        String shown = entries.stream().limit(LISTED).map(e -> e.subject() + (e.party() == null ? "" : " (party "
                + e.party() + ")") + " serial " + e.serial().toString(16) + " until " + e.notAfter())
                .collect(Collectors.joining(", "));
        return entries.size() > LISTED ? shown + " and " + (entries.size() - LISTED) + " more" : shown;
    }

    private static String cn(X509Certificate c) {
        RDN[] cns = X500Name.getInstance(c.getSubjectX500Principal().getEncoded()).getRDNs(BCStyle.CN);
        return cns.length == 0 ? null : IETFUtils.valueToString(cns[0].getFirst().getValue());
    }
}
