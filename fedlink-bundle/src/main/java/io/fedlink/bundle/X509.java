package io.fedlink.bundle;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Signs certificates whose exact shape another tool dictates (Consul's {@code tls} command, Flink's self-signed
 * internal certificate), which fedlink-pki's profiles deliberately do not offer.
 */
final class X509 {
    private X509() {}

    /** Adds extensions to a certificate being built. */
    @FunctionalInterface
    interface Extensions {
        void addTo(X509v3CertificateBuilder b) throws CertIOException, GeneralSecurityException;
    }

    static X509Certificate sign(X500Name issuer, X500Name subject, BigInteger serial, Instant notBefore,
            Instant notAfter, PublicKey subjectKey, PrivateKey issuerKey, Extensions extensions) {
        try {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, serial, Date.from(notBefore),
                    Date.from(notAfter), subject, subjectKey);
            extensions.addTo(b);
            String alg = issuerKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder(alg).build(issuerKey)));
        } catch (GeneralSecurityException | CertIOException | OperatorCreationException e) {
            throw new IllegalStateException("cannot sign a certificate for " + subject + ": " + e.getMessage(), e);
        }
    }
}
