package io.fedlink.pki.internal;

import io.fedlink.api.PemCodec;
import java.io.IOException;
import java.security.PrivateKey;
import java.util.Arrays;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.pkcs.RSAPrivateKey;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.util.encoders.Hex;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * The PEM forms that need BouncyCastle: private keys in every form OpenSSL writes (PKCS#8 plain or encrypted, PKCS#1
 * RSA, SEC1 EC, and OpenSSL's legacy {@code Proc-Type}/{@code DEK-Info} encryption of the last two), and PKCS#10
 * CSRs. The armour and base64 are fedlink-api's {@link PemCodec}, the project's one PEM codec, which also reads and
 * writes certificates, CRLs and plain PKCS#8 keys. Keys come back as the JDK's own key objects, so they work with JSSE
 * without a provider registration. Encrypted PKCS#8 is written with AES-256-CBC and PBKDF2-HMAC-SHA256, which
 * {@code openssl pkey} reads.
 *
 * <p>Errors say what the PEM held instead of what was expected; they never include key material or passwords.
 *
 * <p>Internal to fedlink (its modules and tests use it), not API: it may change without notice.
 */
public final class Pem {
    /** The BouncyCastle provider instance fedlink uses explicitly (never registered with the JDK). */
    public static final BouncyCastleProvider BC = new BouncyCastleProvider();
    private static final int PBKDF2_ITERATIONS = 100_000;

    private Pem() {}

    /**
     * Reads the first private key in the text, in any of the forms in the class comment; other blocks (certificates,
     * parameters) are skipped.
     *
     * @param password for encrypted keys; may be {@code null} for plain ones
     * @throws IllegalArgumentException if the text holds no key, the key is encrypted and no password was given, or
     *                                  the password is wrong
     */
    public static PrivateKey privateKey(String pem, char[] password) {
        for (PemCodec.Block b : PemCodec.blocks(pem)) {
            byte[] pkcs8 = switch (b.type()) {
                case "PRIVATE KEY" -> b.der();
                case "ENCRYPTED PRIVATE KEY" -> decryptPkcs8(b.der(), password);
                case "RSA PRIVATE KEY", "EC PRIVATE KEY" -> traditionalToPkcs8(b.type(), legacyDecrypt(b, password));
                default -> null; // certificates, parameters
            };
            if (pkcs8 != null) {
                try {
                    return PemCodec.decodePrivateKey(pkcs8);
                } finally {
                    Arrays.fill(pkcs8, (byte) 0);
                    Arrays.fill(b.der(), (byte) 0);
                }
            }
        }
        throw new IllegalArgumentException("no private key block found (expected PRIVATE KEY, ENCRYPTED PRIVATE "
                + "KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
    }

    private static byte[] decryptPkcs8(byte[] der, char[] password) {
        requirePassword(password);
        try {
            return new PKCS8EncryptedPrivateKeyInfo(der).decryptPrivateKeyInfo(
                    new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BC).build(password)).getEncoded();
        } catch (PKCSException e) {
            throw new IllegalArgumentException("cannot decrypt the private key: wrong password?", e);
        } catch (IOException | OperatorCreationException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read the encrypted private key: " + e.getMessage(), e);
        }
    }

    /** The block's bytes, decrypted if OpenSSL's legacy headers say it is encrypted. */
    private static byte[] legacyDecrypt(PemCodec.Block b, char[] password) {
        String dekInfo = b.headers().get("DEK-Info");
        if (dekInfo == null) {
            return b.der();
        }
        requirePassword(password);
        String[] cipherAndIv = dekInfo.split(",", 2);
        try {
            return new JcePEMDecryptorProviderBuilder().setProvider(BC).build(password).get(cipherAndIv[0])
                    .decrypt(b.der(), Hex.decode(cipherAndIv[1]));
        } catch (OperatorCreationException | RuntimeException e) {
            throw new IllegalArgumentException("cannot decrypt the " + b.type() + ": unsupported DEK-Info '"
                    + dekInfo + "' (convert it with 'openssl pkcs8 -topk8')", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot decrypt the private key: wrong password?", e);
        }
    }

    /** PKCS#1 RSA or SEC1 EC as PKCS#8; an unreadable structure after a legacy decryption means a wrong password. */
    private static byte[] traditionalToPkcs8(String type, byte[] der) {
        AlgorithmIdentifier algorithm;
        ASN1Encodable key;
        try {
            if (type.startsWith("RSA")) {
                algorithm = new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE);
                key = RSAPrivateKey.getInstance(der);
            } else {
                ECPrivateKey ec = ECPrivateKey.getInstance(der);
                algorithm = new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, ec.getParametersObject());
                key = ec;
            }
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot read the " + type + " (damaged, or a wrong password?)", e);
        } finally {
            Arrays.fill(der, (byte) 0);
        }
        if (algorithm.getParameters() == null) {
            throw new IllegalArgumentException("the EC PRIVATE KEY names no curve: write it with its parameters"
                    + " ('openssl ec -param_enc named_curve')");
        }
        try {
            return new PrivateKeyInfo(algorithm, key).getEncoded();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the " + type + ": " + e.getMessage(), e);
        }
    }

    private static void requirePassword(char[] password) {
        if (password == null || password.length == 0) {
            throw new IllegalArgumentException("the private key is encrypted: a password is needed");
        }
    }

    /** A private key as encrypted PKCS#8 PEM (AES-256-CBC, PBKDF2-HMAC-SHA256). */
    public static String encryptedPkcs8(PrivateKey key, char[] password) {
        requirePassword(password);
        try {
            JceOpenSSLPKCS8EncryptorBuilder b = new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC);
            b.setProvider(BC);
            b.setPRF(PKCS8Generator.PRF_HMACSHA256);
            b.setIterationCount(PBKDF2_ITERATIONS);
            b.setPassword(password);
            PemObject obj = new JcaPKCS8Generator(key, b.build()).generate();
            return PemCodec.block(obj.getType(), obj.getContent());
        } catch (OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot encrypt the private key: " + e.getMessage(), e);
        }
    }

    /** Reads the PKCS#10 certificate signing request, the first block of the text. */
    public static PKCS10CertificationRequest csr(String pem) {
        List<PemCodec.Block> blocks = PemCodec.blocks(pem);
        String type = blocks.isEmpty() ? null : blocks.get(0).type();
        if (!"CERTIFICATE REQUEST".equals(type) && !"NEW CERTIFICATE REQUEST".equals(type)) {
            throw new IllegalArgumentException("expected a CERTIFICATE REQUEST block, found "
                    + (type == null ? "nothing" : type));
        }
        try {
            return new PKCS10CertificationRequest(blocks.get(0).der());
        } catch (IOException | RuntimeException e) {
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
}
