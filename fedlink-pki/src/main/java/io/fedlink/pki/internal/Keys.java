package io.fedlink.pki.internal;

import io.fedlink.pki.KeyType;
import java.io.IOException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.interfaces.RSAPublicKey;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Not API: the key policy applied to existing public keys ({@link KeyType#ACCEPTED}) and the CSR a party sends,
 * shared by the CA side, the enrollment client and the modules' tests.
 */
public final class Keys {
    private Keys() {}

    /**
     * The JCA signature algorithm to sign with the private key of {@code key} (any size or curve: a requester's
     * tool may sign a CSR that the key policy then refuses), e.g. {@code SHA256withECDSA}.
     */
    public static String signatureAlgorithmFor(PublicKey key) {
        if (key instanceof RSAPublicKey) {
            return "SHA256withRSA";
        } else if (key instanceof java.security.interfaces.ECPublicKey ec) {
            int bits = ec.getParams().getOrder().bitLength();
            return bits > 384 ? "SHA512withECDSA" : bits > 256 ? "SHA384withECDSA" : "SHA256withECDSA";
        }
        String what = describe(key);
        if (what.equals("Ed448") || what.equals("Ed25519")) {
            return what; // pure EdDSA: the algorithm is the curve
        }
        throw refused(what);
    }

    /**
     * The type of an existing public key, exactly: an EC key on P-256, P-384 or P-521 is that curve's type, an RSA
     * key is the type of its size class (2048, up to 3072, above 3072).
     *
     * @throws IllegalArgumentException naming the key and {@link KeyType#ACCEPTED} for any key outside the policy
     */
    public static KeyType of(PublicKey key) {
        String alg = key.getAlgorithm();
        if (key instanceof RSAPublicKey rsa) {
            int n = rsa.getModulus().bitLength();
            if (n < KeyType.MIN_RSA_BITS || n > KeyType.MAX_RSA_BITS) {
                throw refused(describe(key));
            }
            return n > 3072 ? KeyType.RSA_4096 : n > 2048 ? KeyType.RSA_3072 : KeyType.RSA_2048;
        }
        ASN1ObjectIdentifier oid = algorithmOid(key);
        if (alg.equals("EC") || alg.equals("ECDSA")) {
            ASN1ObjectIdentifier curve = curveOid(key);
            if (X9ObjectIdentifiers.prime256v1.equals(curve)) {
                return KeyType.EC_P256;
            } else if (SECObjectIdentifiers.secp384r1.equals(curve)) {
                return KeyType.EC_P384;
            } else if (SECObjectIdentifiers.secp521r1.equals(curve)) {
                return KeyType.EC_P521;
            }
        } else if (EdECObjectIdentifiers.id_Ed25519.equals(oid)) {
            return KeyType.ED25519;
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
        return new IllegalArgumentException("the key is " + what + ": fedlink accepts " + KeyType.ACCEPTED);
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

    /** A PKCS#10 CSR (PEM) for DNS name {@code dnsName} (also the common name), signed by {@code pair}. */
    public static String csr(KeyPair pair, String dnsName) {
        try {
            JcaPKCS10CertificationRequestBuilder b = new JcaPKCS10CertificationRequestBuilder(
                    new X500Principal("CN=" + dnsName), pair.getPublic());
            ExtensionsGenerator ext = new ExtensionsGenerator();
            ext.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
            b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate());
            var signer = new JcaContentSignerBuilder(signatureAlgorithmFor(pair.getPublic()))
                    .build(pair.getPrivate());
            return Pem.csrPem(b.build(signer));
        } catch (IOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot make the CSR: " + e.getMessage(), e);
        }
    }
}
