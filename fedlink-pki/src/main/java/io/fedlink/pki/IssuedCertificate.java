package io.fedlink.pki;

import io.fedlink.api.PemCodec;
import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.internal.Pem;
import java.math.BigInteger;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A certificate the CA issued, with its private key when the CA generated it (not when it signed a CSR), the chain
 * up to (not including) the root, and the root that verifies it. {@link #toString()} never shows the key.
 */
public final class IssuedCertificate {
    private final PrivateKey key;
    private final List<X509Certificate> chain;
    private final X509Certificate root;

    IssuedCertificate(PrivateKey key, List<X509Certificate> chain, X509Certificate root) {
        this.key = key;
        this.chain = List.copyOf(chain);
        this.root = root;
    }

    /** The leaf certificate. */
    public X509Certificate certificate() {
        return chain.get(0);
    }

    /** The leaf and any intermediate CAs, leaf first (what a TLS peer presents). */
    public List<X509Certificate> chain() {
        return chain;
    }

    /** The root CA certificate (the trust anchor). */
    X509Certificate root() {
        return root;
    }

    /** The private key, or {@code null} when the certificate came from a CSR. */
    public PrivateKey privateKey() {
        return key;
    }

    /** The serial number. */
    BigInteger serial() {
        return certificate().getSerialNumber();
    }

    /**
     * TLS material presenting this certificate and trusting the root: mutual TLS within the federation.
     *
     * @throws IllegalStateException when there is no private key (CSR-signed)
     */
    public TlsMaterial tlsMaterial() {
        if (key == null) {
            throw new IllegalStateException("certificate " + serial().toString(16) + " was signed from a CSR: its key "
                    + "stays with the requester");
        }
        return TlsMaterial.builder().identity(key, chain).trust(root).build();
    }

    /** The chain as PEM, leaf first. */
    public String chainPem() {
        return PemCodec.certificates(chain);
    }

    /** The leaf alone as PEM. */
    String certificatePem() {
        return PemCodec.certificates(List.of(certificate()));
    }

    /**
     * The private key as unencrypted PKCS#8 PEM. Write it with {@code SecureFiles.writePrivate} (mode 0600), or the
     * whole identity (key, chain, root) with {@code TlsFiles.write(tlsMaterial(), dir)}.
     */
    public String privateKeyPem() {
        return PemCodec.privateKey(requireKey());
    }

    /** The private key as encrypted PKCS#8 PEM. */
    String encryptedPrivateKeyPem(char[] password) {
        return Pem.encryptedPkcs8(requireKey(), password);
    }

    private PrivateKey requireKey() {
        if (key == null) {
            throw new IllegalStateException("no private key: certificate " + serial().toString(16)
                    + " was signed from a CSR");
        }
        return key;
    }

    @Override
    public String toString() {
        return "IssuedCertificate[" + certificate().getSubjectX500Principal().getName() + ", serial "
                + serial().toString(16) + ", until " + certificate().getNotAfter().toInstant()
                + (key == null ? ", no key" : ", with key") + "]";
    }
}
