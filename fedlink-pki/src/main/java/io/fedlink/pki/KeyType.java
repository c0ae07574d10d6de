package io.fedlink.pki;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;

/**
 * Key algorithms fedlink issues. EC P-256 is the default: small, fast, accepted by every TLS stack in the seeds
 * (Pulsar, etcd, Flink, Consul). RSA sizes exist for peers that insist on RSA; Ed25519 for the modern ones (not
 * usable for TLS by JDK 17 servers' default key managers with every client, so prefer EC for TLS).
 *
 * <p>The key policy ({@link io.fedlink.pki.internal.Keys#of}, {@link #ACCEPTED}): RSA of 2048..8192 bits, ECDSA on
 * the NIST curves P-256, P-384 and P-521 (named by their OID, as every TLS stack sends them), Ed25519. Every other
 * key (other curves such as secp256k1, secp112r1 or brainpool, explicit curve parameters, Ed448, DSA) is refused,
 * so each accepted key is recorded and renewed as what it really is.
 */
public enum KeyType {
    /** ECDSA on NIST P-256 with SHA-256 (default). */
    EC_P256("EC", 256, "SHA256withECDSA"),
    /** ECDSA on NIST P-384 with SHA-384. */
    EC_P384("EC", 384, "SHA384withECDSA"),
    /** ECDSA on NIST P-521 with SHA-512. */
    EC_P521("EC", 521, "SHA512withECDSA"),
    /** RSA 2048 with SHA-256. */
    RSA_2048("RSA", 2048, "SHA256withRSA"),
    /** RSA 3072 with SHA-256. */
    RSA_3072("RSA", 3072, "SHA256withRSA"),
    /** RSA 4096 with SHA-256 (the FATE guide's CA key size). */
    RSA_4096("RSA", 4096, "SHA256withRSA"),
    /** Ed25519 (pure EdDSA). */
    ED25519("Ed25519", 255, "Ed25519");

    /** The keys accepted, in words (error messages list them). */
    public static final String ACCEPTED = "RSA of 2048..8192 bits, EC on P-256, P-384 or P-521, or Ed25519";
    /** The smallest RSA key accepted (NIST SP 800-131A). */
    public static final int MIN_RSA_BITS = 2048;
    /** The largest RSA key accepted (bigger keys only cost the CA time to verify). */
    public static final int MAX_RSA_BITS = 8192;

    private final String algorithm;
    private final int bits;
    private final String signatureAlgorithm;

    KeyType(String algorithm, int bits, String signatureAlgorithm) {
        this.algorithm = algorithm;
        this.bits = bits;
        this.signatureAlgorithm = signatureAlgorithm;
    }

    /** Generates a fresh key pair. */
    public KeyPair generate() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
            if (algorithm.equals("EC")) {
                g.initialize(new ECGenParameterSpec("secp" + (bits == 256 ? "256r1" : bits + "r1")), new SecureRandom());
            } else if (algorithm.equals("RSA")) {
                g.initialize(bits, new SecureRandom());
            }
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate a " + this + " key: " + e.getMessage(), e);
        }
    }

    /** The JCA signature algorithm of keys of this type (what a CA with such a key signs with). */
    String signatureAlgorithm() {
        return signatureAlgorithm;
    }

    /** Whether keys of this type may encipher keys (RSA key transport), which decides the key usage bits. */
    boolean isRsa() {
        return algorithm.equals("RSA");
    }
}
