package io.fedlink.pki.enroll;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import io.fedlink.api.FileSet;
import io.fedlink.api.PemCodec;
import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.api.SecureFiles;
import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.internal.Pem;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A party's certificate files as consumers read them, replaced as one unit. Each identity is written to its own
 * version folder, then the link {@code current} is switched to it by one atomic rename:
 *
 * <pre>
 * &lt;dir&gt;/current -&gt; versions/20261125T190000Z-5f3a...   (consumers read through this link)
 * &lt;dir&gt;/versions/&lt;v&gt;/cert.pem   certificate chain, leaf first
 * &lt;dir&gt;/versions/&lt;v&gt;/key.pem    PKCS#8 private key, mode 0600
 * &lt;dir&gt;/versions/&lt;v&gt;/ca.pem     CA bundle (trust anchors)
 * &lt;dir&gt;/versions/&lt;v&gt;/keystore.p12, truststore.p12   with {@link #withPkcs12(char[])}
 * </pre>
 *
 * <p>So a reader never sees a new certificate with an old key: Pulsar's {@code tlsCertificateFilePath}
 * {@code <dir>/current/cert.pem}, {@code tlsKeyFilePath} {@code <dir>/current/key.pem} and
 * {@code tlsTrustCertsFilePath} {@code <dir>/current/ca.pem} change together (Pulsar notices the new modification
 * times through the link). The current and the version it replaced are kept, older ones removed without following any link. Folders are
 * 0700.
 */
public final class PartyFiles {
    /** The link consumers read through. */
    public static final String CURRENT = "current";
    /** File names inside a version. */
    public static final String CERT = "cert.pem";
    /** The PKCS#8 key. */
    public static final String KEY = "key.pem";
    /** The CA bundle. */
    public static final String CA = "ca.pem";
    /** The PKCS#12 key store (identity, and the CA bundle as trusted entries), when asked for. */
    public static final String KEYSTORE = "keystore.p12";
    /** The PKCS#12 trust store (the CA bundle), when asked for. */
    public static final String TRUSTSTORE = "truststore.p12";
    /** The alias of the identity in {@link #KEYSTORE}. */
    public static final String ALIAS = "fedlink";
    private static final String VERSIONS = "versions";
    /** A version folder's name as {@link #write} makes it: notBefore and the serial in hex. */
    private static final Pattern VERSION = Pattern.compile("\\d{8}T\\d{6}Z-[0-9a-f]+");
    /** The file names {@link #write} puts in a version: the only ones pruning removes. */
    private static final Set<String> WRITTEN = Set.of(CERT, KEY, CA, KEYSTORE, TRUSTSTORE);
    private static final Logger LOG = LoggerFactory.getLogger(PartyFiles.class);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private final Path dir;
    private final char[] storePassword;

    /** The files under {@code dir}. */
    public PartyFiles(Path dir) {
        this(dir, null);
    }

    private PartyFiles(Path dir, char[] storePassword) {
        this.dir = dir;
        this.storePassword = storePassword;
    }

    /**
     * The same files plus, in every version written, {@code keystore.p12} (the identity under alias
     * {@code fedlink}, key and store protected by {@code password}, the CA bundle as trusted entries) and
     * {@code truststore.p12} (the CA bundle), for consumers that read key stores (Flink's
     * {@code security.ssl.*.keystore}/{@code truststore} with type PKCS12). They are written in the same unit as the
     * PEM files, so {@code current/keystore.p12} always matches {@code current/cert.pem}.
     */
    public PartyFiles withPkcs12(char[] password) {
        if (password == null || password.length == 0) {
            throw new IllegalArgumentException("a PKCS#12 key store needs a password: give a non-empty one");
        }
        return new PartyFiles(dir, password.clone());
    }

    /** The folder. */
    Path dir() {
        return dir;
    }

    /** The path consumers read the named file from, e.g. {@code <dir>/current/cert.pem}. */
    public Path current(String file) {
        return dir.resolve(CURRENT).resolve(file);
    }

    /** Whether an identity was written. */
    boolean exists() {
        return Files.exists(current(CERT));
    }

    /** Writes {@code material} as a new version and switches {@code current} to it atomically. */
    public Path write(TlsMaterial material) throws IOException {
        SecureFiles.privateDirectory(dir);
        String name = STAMP.format(material.certificate().getNotBefore().toInstant()) + "-"
                + material.certificate().getSerialNumber().toString(16);
        Path version = dir.resolve(VERSIONS).resolve(name);
        FileSet files = new FileSet().add(version.resolve(CERT), material.certificateChainPem(), false)
                .add(version.resolve(KEY), material.privateKeyPem(), true)
                .add(version.resolve(CA), material.trustAnchorsPem(), false);
        if (storePassword != null) {
            files.add(version.resolve(KEYSTORE), store(material.keyStore("PKCS12", ALIAS, storePassword)), true)
                    .add(version.resolve(TRUSTSTORE), store(material.trustStore("PKCS12")), false);
        }
        files.commit(FileSet.NOTHING);
        Path link = dir.resolve(CURRENT);
        String previous = Files.isSymbolicLink(link) ? Files.readSymbolicLink(link).getFileName().toString() : null;
        Path temp = dir.resolve("." + CURRENT + ".tmp");
        Files.deleteIfExists(temp);
        Files.createSymbolicLink(temp, Path.of(VERSIONS, name));
        Files.move(temp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Set<String> keep = new HashSet<>();
        keep.add(name);
        if (previous != null) {
            keep.add(previous);
        }
        prune(keep);
        return version;
    }

    private byte[] store(KeyStore ks) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ks.store(out, storePassword);
            return out.toByteArray();
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot write the PKCS#12 store: " + e.getMessage(), e);
        }
    }

    /**
     * Removes every version but {@code keep} (the new one and the one it replaced: a reader may still be in it). It
     * never follows a link: through a secure directory stream (openat with O_NOFOLLOW) it enters only real folders
     * named like a version and unlinks only regular files with the names it writes. Anything else (a link planted in
     * {@code versions/}, a foreign file) is left where it is and named in one INFO line. Where the file system has no
     * secure directory streams, old versions are kept.
     */
    private void prune(Set<String> keep) throws IOException {
        List<String> left = new ArrayList<>();
        try (DirectoryStream<Path> all = Files.newDirectoryStream(dir.resolve(VERSIONS))) {
            if (!(all instanceof SecureDirectoryStream<Path> versions)) {
                LOG.info("old versions in {} are kept: this file system cannot remove them without following "
                        + "links", dir.resolve(VERSIONS));
                return;
            }
            List<Path> old = new ArrayList<>();
            for (Path p : versions) {
                if (!keep.contains(p.getFileName().toString())) {
                    old.add(p.getFileName());
                }
            }
            for (Path name : old) {
                if (!VERSION.matcher(name.toString()).matches() || !attributes(versions, name).isDirectory()) {
                    left.add(name.toString());
                    continue;
                }
                try (SecureDirectoryStream<Path> version = versions.newDirectoryStream(name, NOFOLLOW_LINKS)) {
                    List<Path> files = new ArrayList<>();
                    version.forEach(f -> files.add(f.getFileName()));
                    for (Path f : files) {
                        if (WRITTEN.contains(f.toString()) && attributes(version, f).isRegularFile()) {
                            version.deleteFile(f);
                        } else {
                            left.add(name + "/" + f);
                        }
                    }
                }
                try {
                    versions.deleteDirectory(name);
                } catch (DirectoryNotEmptyException named) {
                    // what is in it was named in 'left'
                }
            }
        }
        if (!left.isEmpty()) {
            LOG.info("left {} entr{} in {} that fedlink did not write (not followed, not removed): {}", left.size(),
                    left.size() == 1 ? "y" : "ies", dir.resolve(VERSIONS),
                    String.join(", ", left.subList(0, Math.min(5, left.size()))));
        }
    }

    private static BasicFileAttributes attributes(SecureDirectoryStream<Path> in, Path name) throws IOException {
        return in.getFileAttributeView(name, BasicFileAttributeView.class, NOFOLLOW_LINKS).readAttributes();
    }

    /**
     * Keeps {@code live} on this folder's identity while another process renews it (e.g. {@code fedlink pki renew
     * --daemon}): checks where {@code current} points every {@code interval} and, when it moved, reads the new
     * version and updates {@code live}, so a JSSE service picks up renewals without a restart. {@code live} is
     * expected to hold the version current now; a version that cannot be read is reported once and retried, the
     * material keeping the last good identity. Close the result to stop watching.
     */
    public java.io.Closeable watch(ReloadableTlsMaterial live, Duration interval) throws IOException {
        return PartyFilesWatcher.start(this, live, interval);
    }

    /**
     * Reads the current identity and trust, all three files from one version: the link is resolved once, so a
     * renewal switching it meanwhile never pairs a new certificate with the old key. If that version is removed
     * while being read (two renewals during one read), it reads the new current version.
     */
    public TlsMaterial read() throws IOException {
        // the link itself, not its target: two renewals in a row may have pruned the version it named a moment ago
        if (!Files.isSymbolicLink(dir.resolve(CURRENT)) && !exists()) {
            throw new IllegalArgumentException("'" + current(CERT) + "' not found: enroll first ('fedlink pki "
                    + "enroll')");
        }
        for (int attempt = 1; ; attempt++) {
            try {
                Path version = dir.resolve(CURRENT).toRealPath(); // may name a version pruned meanwhile: retried
                return TlsMaterial.builder()
                        .identity(Pem.privateKey(Files.readString(version.resolve(KEY), StandardCharsets.US_ASCII),
                                null), PemCodec.readCertificates(Files.readString(version.resolve(CERT),
                                StandardCharsets.US_ASCII)))
                        .trust(PemCodec.readCertificates(Files.readString(version.resolve(CA),
                                StandardCharsets.US_ASCII)))
                        .build();
            } catch (NoSuchFileException e) {
                if (attempt == 100) { // renewals minutes apart never get here; a deleted folder does
                    throw e;
                }
            }
        }
    }
}
