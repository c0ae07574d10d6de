package io.fedlink.api;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.CRLException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * PEM text for everything the JDK alone can read and write: certificates and chains, CRLs, unencrypted PKCS#8
 * private keys, and any block by type. The one home of PEM writing in fedlink; fedlink-pki adds the forms that need
 * BouncyCastle (encrypted keys, PKCS#1/SEC1 keys, CSRs) on top of it.
 */
public final class PemCodec {
    private PemCodec() {}

    /** One PEM block with 64-column base64 and a trailing newline. */
    public static String block(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** PEM blocks ({@code BEGIN CERTIFICATE}) for these certificates, in order. */
    public static String certificates(List<X509Certificate> certs) {
        StringBuilder sb = new StringBuilder();
        for (X509Certificate c : certs) {
            try {
                sb.append(block("CERTIFICATE", c.getEncoded()));
            } catch (CertificateEncodingException e) {
                throw new IllegalStateException("cannot encode certificate " + c.getSubjectX500Principal(), e);
            }
        }
        return sb.toString();
    }

    /** A private key as unencrypted PKCS#8 PEM ({@code BEGIN PRIVATE KEY}); the DER copy is wiped afterwards. */
    public static String privateKey(PrivateKey key) {
        byte[] der = key.getEncoded();
        try {
            return block("PRIVATE KEY", der);
        } finally {
            Arrays.fill(der, (byte) 0);
        }
    }

    /** A CRL as PEM ({@code BEGIN X509 CRL}). */
    public static String crl(X509CRL crl) {
        try {
            return block("X509 CRL", crl.getEncoded());
        } catch (CRLException e) {
            throw new IllegalStateException("cannot encode the CRL of " + crl.getIssuerX500Principal(), e);
        }
    }

    /**
     * Every certificate in the text, in order.
     *
     * @throws IllegalArgumentException if there is none or one is damaged
     */
    public static List<X509Certificate> readCertificates(String pem) {
        try {
            List<X509Certificate> out = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(
                    new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new IllegalArgumentException("no CERTIFICATE block found");
            }
            return out;
        } catch (CertificateException e) {
            throw new IllegalArgumentException("not a PEM certificate: " + e.getMessage(), e);
        }
    }

    /**
     * The CRL in the text (PEM or DER).
     *
     * @throws IllegalArgumentException if it is not a CRL
     */
    public static X509CRL readCrl(String pem) {
        try {
            return (X509CRL) CertificateFactory.getInstance("X.509")
                    .generateCRL(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not a PEM CRL: " + e.getMessage(), e);
        }
    }
}
