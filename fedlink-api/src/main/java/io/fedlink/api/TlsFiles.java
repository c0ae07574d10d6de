package io.fedlink.api;

import java.io.IOException;
import java.nio.file.Path;

/**
 * {@link TlsMaterial} written as the PEM files Pulsar brokers and clients, etcd and FATE read: {@code ca.pem}
 * (trust anchors), {@code cert.pem} (chain) and {@code key.pem} (unencrypted PKCS#8, as brokers require, mode
 * 0600), in a folder created with mode 0700. The files are written as one unit, each replaced atomically (see
 * {@link FileSet}).
 *
 * @param dir  the folder
 * @param ca   the trust anchors file
 * @param cert the certificate chain file, or {@code null} for trust-only material
 * @param key  the private key file, or {@code null} for trust-only material
 */
public record TlsFiles(Path dir, Path ca, Path cert, Path key) {

    /** Writes {@code material} into {@code dir} (created if needed). */
    public static TlsFiles write(TlsMaterial material, Path dir) throws IOException {
        Path ca = dir.resolve("ca.pem");
        FileSet files = new FileSet().add(ca, material.trustAnchorsPem(), false);
        if (!material.hasIdentity()) {
            files.commit(FileSet.NOTHING);
            return new TlsFiles(dir, ca, null, null);
        }
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        files.add(cert, material.certificateChainPem(), false).add(key, material.privateKeyPem(), true)
                .commit(FileSet.NOTHING);
        return new TlsFiles(dir, ca, cert, key);
    }
}
