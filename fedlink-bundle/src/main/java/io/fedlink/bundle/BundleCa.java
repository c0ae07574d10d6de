package io.fedlink.bundle;

import io.fedlink.pki.CaFolder;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.KeyType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CA a bundle issues from: the CA saved in a folder (what the bundle issues is recorded in its index), or a new
 * one that is saved there only once the bundle is written ({@link #saveIfNew}), so a refused bundle leaves no CA
 * behind.
 *
 * <pre>{@code
 * BundleCa ca = BundleCa.open(Path.of("flink/ca"), "Flink REST CA", KeyType.RSA_2048, null);
 * FlinkBundle.builder(ca.authority()).build().write(Path.of("flink"));
 * ca.saveIfNew(null);   // flink/ca: ca.pem, ca-key.pem (0600), index.tsv
 * }</pre>
 *
 * @param authority the CA
 * @param dir       its folder
 * @param isNew     whether it was created rather than loaded
 */
public record BundleCa(CertificateAuthority authority, Path dir, boolean isNew) {

    /**
     * Loads the CA saved in {@code dir}, or creates one (not yet saved) with {@code commonName} and {@code keyType}
     * when the folder holds none, constrained to the {@code permitDns} domains if any. {@code password} decrypts the
     * saved CA key; may be {@code null}.
     */
    public static BundleCa open(Path dir, String commonName, KeyType keyType, char[] password, String... permitDns)
            throws IOException {
        if (Files.exists(dir.resolve("ca-key.pem"))) {
            return new BundleCa(CaFolder.of(dir, password).load(), dir, false);
        }
        return new BundleCa(CertificateAuthority.builder().commonName(commonName).keyType(keyType)
                .permitDns(permitDns).create(), dir, true);
    }

    /**
     * Saves a created CA into its folder (mode 0700, key 0600, encrypted with {@code password} if given); for a CA
     * loaded from its folder, appends what the bundle issued to its {@code index.tsv}, so the certificates are the
     * CA's like any other: listed, revocable, in its CRL.
     */
    public void saveIfNew(char[] password) throws IOException {
        if (isNew) {
            CaFolder.of(dir, password).create(authority);
        } else {
            CaFolder.of(dir, password).saveIndex(authority);
        }
    }
}
