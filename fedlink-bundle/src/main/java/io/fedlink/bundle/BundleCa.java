package io.fedlink.bundle;

import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.KeyType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The CA a bundle issues from: an existing CA folder, or a new one created there (mode 0700, key 0600). */
public final class BundleCa {
    private BundleCa() {}

    /**
     * Loads the CA saved in {@code dir}, or creates one with {@code commonName} and {@code keyType} and saves it
     * there when the folder holds none. {@code password} encrypts (or decrypts) the CA key; may be {@code null}.
     */
    public static CertificateAuthority loadOrCreate(Path dir, String commonName, KeyType keyType, char[] password)
            throws IOException {
        if (Files.exists(dir.resolve("ca-key.pem"))) {
            return CertificateAuthority.load(dir, password);
        }
        CertificateAuthority ca = CertificateAuthority.builder().commonName(commonName).keyType(keyType).create();
        ca.save(dir, password);
        return ca;
    }
}
