package io.fedlink.pki;

import io.fedlink.api.PemCodec;
import io.fedlink.api.FileSet;
import io.fedlink.api.SecureFiles;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A CA as a folder: {@code ca.pem} (chain), {@code ca-key.pem} (PKCS#8, mode 0600, encrypted when a password is
 * given) and {@code index.tsv} ({@link CaIndex}). Saving writes the files as one unit ({@link FileSet}); loading never
 * writes, and a missing or damaged file fails naming it.
 */
final class CaFolder {
    static final String CERT_FILE = "ca.pem";
    static final String KEY_FILE = "ca-key.pem";
    static final String INDEX_FILE = "index.tsv";
    static final List<String> FILES = List.of(CERT_FILE, KEY_FILE, INDEX_FILE);

    private CaFolder() {}

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
