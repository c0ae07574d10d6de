package io.fedlink.pulsar;

import io.fedlink.api.TlsMaterial;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * {@link TlsMaterial} written as the PEM files Pulsar reads: {@code ca.pem} (trust anchors), {@code cert.pem} (chain)
 * and {@code key.pem} (unencrypted PKCS#8, as brokers require, mode 0600), in a folder with mode 0700.
 *
 * @param dir  the folder
 * @param ca   the trust anchors file
 * @param cert the certificate chain file, or {@code null} for trust-only material
 * @param key  the private key file, or {@code null} for trust-only material
 */
public record TlsFiles(Path dir, Path ca, Path cert, Path key) {

    /** Writes {@code material} into {@code dir} (created if needed). */
    public static TlsFiles write(TlsMaterial material, Path dir) throws IOException {
        Files.createDirectories(dir);
        chmod(dir, "rwx------");
        Path ca = dir.resolve("ca.pem");
        Files.writeString(ca, material.trustAnchorsPem());
        if (!material.hasIdentity()) {
            return new TlsFiles(dir, ca, null, null);
        }
        Path cert = dir.resolve("cert.pem");
        Files.writeString(cert, material.certificateChainPem());
        Path key = dir.resolve("key.pem");
        Path tmp = Files.createTempFile(dir, ".key", ".tmp");
        try {
            chmod(tmp, "rw-------");
            Files.writeString(tmp, material.privateKeyPem());
            Files.move(tmp, key, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return new TlsFiles(dir, ca, cert, key);
    }

    private static void chmod(Path p, String mode) throws IOException {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
    }
}
