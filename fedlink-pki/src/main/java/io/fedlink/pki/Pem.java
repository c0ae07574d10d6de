package io.fedlink.pki;

import io.fedlink.api.PemCodec;
import java.io.IOException;
import java.io.StringReader;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * PEM reading and writing for everything a CA handles: certificates and chains, private keys (PKCS#8 plain or
 * encrypted, PKCS#1 RSA, SEC1 EC, and OpenSSL's legacy encrypted PEM), CSRs and CRLs. What the JDK alone can do
 * (certificates, CRLs, plain PKCS#8) is fedlink-api's {@link PemCodec}; this class adds the BouncyCastle forms. Keys come back as JDK key
 * objects, so they work with JSSE without a provider registration. Encrypted PKCS#8 is written with AES-256-CBC
 * and PBKDF2-HMAC-SHA256, which {@code openssl pkey} reads.
 *
 * <p>Errors say what the PEM held instead of what was expected; they never include key material or passwords.
 */
public final class Pem {
    static final BouncyCastleProvider BC = new BouncyCastleProvider();
    private static final int PBKDF2_ITERATIONS = 100_000;

    private Pem() {}

    /** Every certificate in the text, in order. */
    public static List<X509Certificate> certificates(String pem) {
        return PemCodec.readCertificates(pem);
    }

    /** The first certificate in the text. */
    public static X509Certificate certificate(String pem) {
        return certificates(pem).get(0);
    }

    /** Certificates as PEM. */
    public static String encode(List<X509Certificate> certs) {
        return PemCodec.certificates(certs);
    }

    /**
     * Reads a private key in any of the forms in the class comment.
     *
     * @param password for encrypted keys; may be {@code null} for plain ones
     * @throws IllegalArgumentException if the text holds no key, the key is encrypted and no password was given, or
     *                                  the password is wrong
     */
    public static PrivateKey privateKey(String pem, char[] password) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object o;
            while ((o = parser.readObject()) != null) {
                if (o instanceof PrivateKeyInfo info) {
                    return jdkKey(info);
                }
                if (o instanceof PEMKeyPair pair) {
                    return jdkKey(pair.getPrivateKeyInfo());
                }
                if (o instanceof PKCS8EncryptedPrivateKeyInfo enc) {
                    requirePassword(password);
                    try {
                        return jdkKey(enc.decryptPrivateKeyInfo(
                                new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BC).build(password)));
                    } catch (PKCSException e) {
                        throw new IllegalArgumentException("cannot decrypt the private key: wrong password?", e);
                    }
                }
                if (o instanceof PEMEncryptedKeyPair enc) {
                    requirePassword(password);
                    try {
                        return jdkKey(enc.decryptKeyPair(new JcePEMDecryptorProviderBuilder().setProvider(BC)
                                .build(password)).getPrivateKeyInfo());
                    } catch (PEMException e) {
                        throw new IllegalArgumentException("cannot decrypt the private key: wrong password?", e);
                    }
                }
                // other blocks (certificates, parameters) are skipped
            }
            throw new IllegalArgumentException("no private key block found (expected PRIVATE KEY, ENCRYPTED PRIVATE "
                    + "KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
        } catch (IOException | OperatorCreationException e) {
            throw new IllegalArgumentException("cannot read the private key: " + e.getMessage(), e);
        }
    }

    /**
     * The key as the JDK's own key object, whatever providers are registered: Bouncy Castle's converter picks the
     * first provider of its algorithm name, which is Bouncy Castle itself for EC ("ECDSA") once it is registered
     * (the Pulsar client registers it), and such a key says "ECDSA" where JSSE looks for "EC".
     */
    private static PrivateKey jdkKey(PrivateKeyInfo info) throws IOException {
        String name = JDK_NAMES.get(info.getPrivateKeyAlgorithm().getAlgorithm());
        if (name == null) {
            return new JcaPEMKeyConverter().getPrivateKey(info);
        }
        try {
            return KeyFactory.getInstance(name).generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the " + name + " private key: " + e.getMessage(), e);
        }
    }

    private static final Map<ASN1ObjectIdentifier, String> JDK_NAMES = Map.of(
            X9ObjectIdentifiers.id_ecPublicKey, "EC",
            PKCSObjectIdentifiers.rsaEncryption, "RSA",
            EdECObjectIdentifiers.id_Ed25519, "Ed25519",
            EdECObjectIdentifiers.id_Ed448, "Ed448");

    private static void requirePassword(char[] password) {
        if (password == null || password.length == 0) {
            throw new IllegalArgumentException("the private key is encrypted: a password is needed");
        }
    }

    /** A private key as unencrypted PKCS#8 PEM ({@code BEGIN PRIVATE KEY}). */
    public static String pkcs8(PrivateKey key) {
        return PemCodec.privateKey(key);
    }

    /** A private key as encrypted PKCS#8 PEM (AES-256-CBC, PBKDF2-HMAC-SHA256). */
    public static String encryptedPkcs8(PrivateKey key, char[] password) {
        requirePassword(password);
        try {
            JceOpenSSLPKCS8EncryptorBuilder b = new JceOpenSSLPKCS8EncryptorBuilder(
                    org.bouncycastle.openssl.PKCS8Generator.AES_256_CBC);
            b.setProvider(BC);
            b.setPRF(org.bouncycastle.openssl.PKCS8Generator.PRF_HMACSHA256);
            b.setIterationCount(PBKDF2_ITERATIONS);
            b.setPassword(password);
            PemObject obj = new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(key, b.build()).generate();
            java.io.StringWriter out = new java.io.StringWriter();
            try (PemWriter w = new PemWriter(out)) {
                w.writeObject(obj);
            }
            return out.toString();
        } catch (OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot encrypt the private key: " + e.getMessage(), e);
        }
    }

    /** Reads a PKCS#10 certificate signing request. */
    public static PKCS10CertificationRequest csr(String pem) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object o = parser.readObject();
            if (o instanceof PKCS10CertificationRequest csr) {
                return csr;
            }
            throw new IllegalArgumentException("expected a CERTIFICATE REQUEST block, found "
                    + (o == null ? "nothing" : o.getClass().getSimpleName()));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the CSR: " + e.getMessage(), e);
        }
    }

    /** A PKCS#10 certificate signing request as PEM. */
    public static String csrPem(PKCS10CertificationRequest csr) {
        try {
            return PemCodec.block("CERTIFICATE REQUEST", csr.getEncoded());
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode the CSR: " + e.getMessage(), e);
        }
    }

    /** A CRL as PEM. */
    public static String encode(X509CRL crl) {
        return PemCodec.crl(crl);
    }

    /** Reads a CRL (PEM). */
    public static X509CRL crl(String pem) {
        return PemCodec.readCrl(pem);
    }
}
