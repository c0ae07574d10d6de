package io.fedlink.pki;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Locale;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * Key algorithms fedlink issues. EC P-256 is the default: small, fast, accepted by every TLS stack in the seeds
 * (Pulsar, etcd, Flink, Consul). RSA sizes exist for peers that insist on RSA; Ed25519 for the modern ones (not
 * usable for TLS by JDK 17 servers' default key managers with every client, so prefer EC for TLS).
 *
 * <p>The key policy ({@link #of}, {@link #ACCEPTED}): RSA of 2048..8192 bits, ECDSA on the NIST curves P-256, P-384
 * and P-521 (named by their OID, as every TLS stack sends them), Ed25519. Every other key (other curves such as
 * secp256k1, secp112r1 or brainpool, explicit curve parameters, Ed448, DSA) is refused, so each accepted key is
 * recorded and renewed as what it really is.
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

    /** The JCA signature algorithm a CA with this key signs with. */
    String signatureAlgorithm() {
        return signatureAlgorithm;
    }

    /** Whether keys of this type may encipher keys (RSA key transport), which decides the key usage bits. */
    public boolean isRsa() {
        return algorithm.equals("RSA");
    }

    /**
     * The JCA signature algorithm to sign with the private key of {@code key} (any size or curve: a requester's
     * tool may sign a CSR that the key policy then refuses), e.g. {@code SHA256withECDSA}.
     */
    public static String signatureAlgorithmFor(PublicKey key) {
        if (key instanceof RSAPublicKey) {
            return RSA_2048.signatureAlgorithm;
        } else if (key instanceof java.security.interfaces.ECPublicKey ec) {
            int bits = ec.getParams().getOrder().bitLength();
            return bits > 384 ? EC_P521.signatureAlgorithm : bits > 256 ? EC_P384.signatureAlgorithm
                    : EC_P256.signatureAlgorithm;
        }
        return describe(key).equals("Ed448") ? "Ed448" : of(key).signatureAlgorithm;
    }

    /**
     * The type of an existing public key, exactly: an EC key on P-256, P-384 or P-521 is that curve's type, an RSA
     * key is the type of its size class (2048, up to 3072, above 3072).
     *
     * @throws IllegalArgumentException naming the key and {@link #ACCEPTED} for any key outside the policy
     */
    public static KeyType of(PublicKey key) {
        String alg = key.getAlgorithm();
        if (key instanceof RSAPublicKey rsa) {
            int n = rsa.getModulus().bitLength();
            if (n < MIN_RSA_BITS || n > MAX_RSA_BITS) {
                throw refused(describe(key));
            }
            return n > 3072 ? RSA_4096 : n > 2048 ? RSA_3072 : RSA_2048;
        }
        ASN1ObjectIdentifier oid = algorithmOid(key);
        if (alg.equals("EC") || alg.equals("ECDSA")) {
            ASN1ObjectIdentifier curve = curveOid(key);
            if (X9ObjectIdentifiers.prime256v1.equals(curve)) {
                return EC_P256;
            } else if (SECObjectIdentifiers.secp384r1.equals(curve)) {
                return EC_P384;
            } else if (SECObjectIdentifiers.secp521r1.equals(curve)) {
                return EC_P521;
            }
        } else if (EdECObjectIdentifiers.id_Ed25519.equals(oid)) {
            return ED25519;
        }
        throw refused(describe(key));
    }

    /** What {@code key} is, for records and messages: {@code EC P-521}, {@code EC secp256k1}, {@code RSA 3072}. */
    public static String describe(PublicKey key) {
        if (key instanceof RSAPublicKey rsa) {
            return "RSA " + rsa.getModulus().bitLength();
        }
        ASN1ObjectIdentifier oid = algorithmOid(key);
        if (EdECObjectIdentifiers.id_Ed25519.equals(oid)) {
            return "Ed25519";
        } else if (EdECObjectIdentifiers.id_Ed448.equals(oid)) {
            return "Ed448";
        }
        if (!key.getAlgorithm().equals("EC") && !key.getAlgorithm().equals("ECDSA")) {
            return key.getAlgorithm() + (oid == null ? "" : " (" + oid.getId() + ")");
        }
        ASN1ObjectIdentifier curve = curveOid(key);
        if (curve == null) {
            return "EC with explicit curve parameters";
        }
        if (X9ObjectIdentifiers.prime256v1.equals(curve)) {
            return "EC P-256";
        } else if (SECObjectIdentifiers.secp384r1.equals(curve)) {
            return "EC P-384";
        } else if (SECObjectIdentifiers.secp521r1.equals(curve)) {
            return "EC P-521";
        }
        String name = ECNamedCurveTable.getName(curve);
        return "EC " + (name != null ? name : curve.getId());
    }

    private static IllegalArgumentException refused(String what) {
        return new IllegalArgumentException("the key is " + what + ": fedlink accepts " + ACCEPTED);
    }

    private static ASN1ObjectIdentifier algorithmOid(PublicKey key) {
        byte[] der = key.getEncoded();
        return der == null ? null : SubjectPublicKeyInfo.getInstance(der).getAlgorithm().getAlgorithm();
    }

    /** The named curve of an EC key, or null when it carries explicit parameters. */
    private static ASN1ObjectIdentifier curveOid(PublicKey key) {
        byte[] der = key.getEncoded();
        var params = der == null ? null : SubjectPublicKeyInfo.getInstance(der).getAlgorithm().getParameters();
        return params instanceof ASN1ObjectIdentifier curve ? curve : null;
    }

    /** Parses {@code ec}, {@code ec-p256}, {@code rsa-2048}, {@code ed25519} and the enum names. */
    public static KeyType parse(String text) {
        String t = text.strip().toUpperCase(Locale.ROOT).replace('-', '_');
        return switch (t) {
            case "EC", "ECDSA", "P256", "EC_P256" -> EC_P256;
            case "P384", "EC_P384" -> EC_P384;
            case "P521", "EC_P521" -> EC_P521;
            case "RSA", "RSA2048", "RSA_2048" -> RSA_2048;
            case "RSA3072", "RSA_3072" -> RSA_3072;
            case "RSA4096", "RSA_4096" -> RSA_4096;
            case "ED25519" -> ED25519;
            default -> throw new IllegalArgumentException("unknown key type '" + text
                    + "': use ec-p256, ec-p384, ec-p521, rsa-2048, rsa-3072, rsa-4096 or ed25519");
        };
    }
}
