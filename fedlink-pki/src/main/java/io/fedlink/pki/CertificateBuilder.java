package io.fedlink.pki;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The one place an X.509 certificate is assembled and signed, for CA certificates and end-entity certificates
 * alike: a random 119-bit serial, the validity window, subject and key, the subject and authority key identifiers,
 * then the caller's extensions, signed with the issuer's key.
 */
final class CertificateBuilder {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final X509v3CertificateBuilder builder;
    private final JcaX509ExtensionUtils utils;
    private final String what;

    /**
     * Starts a certificate for {@code subjectKey}, issued by {@code issuer} (the issuer's certificate, or
     * {@code null} for a self-signed root whose issuer is its subject).
     */
    CertificateBuilder(X509Certificate issuer, X500Name subject, PublicKey subjectKey, Instant notBefore,
                       Instant notAfter) {
        this.what = subject.toString().isEmpty() ? "a SAN-only certificate" : subject.toString();
        try {
            this.utils = new JcaX509ExtensionUtils();
            X500Name issuerName = issuer == null ? subject
                    : X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
            this.builder = new JcaX509v3CertificateBuilder(issuerName, newSerial(), Date.from(notBefore),
                    Date.from(notAfter), subject, subjectKey);
            extension(Extension.subjectKeyIdentifier, false, utils.createSubjectKeyIdentifier(subjectKey));
            extension(Extension.authorityKeyIdentifier, false, issuer == null
                    ? utils.createAuthorityKeyIdentifier(subjectKey) : authorityKeyId(issuer));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot build " + what + ": " + e.getMessage(), e);
        }
    }

    /**
     * The authority key identifier naming {@code issuer} by its key identifier alone (the issuer's SKI when it has
     * one), never by issuer name and serial: during a CA rollover the same key has two certificates (the new root and
     * its cross-signed twin), and openssl refuses an issuer whose serial differs from the one an AKI names.
     */
    static AuthorityKeyIdentifier authorityKeyId(X509Certificate issuer) {
        byte[] ski = issuer.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        if (ski != null) {
            return new AuthorityKeyIdentifier(SubjectKeyIdentifier.getInstance(
                    ASN1OctetString.getInstance(ski).getOctets()).getKeyIdentifier());
        }
        try {
            return new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(issuer.getPublicKey());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A positive 15-byte serial with at least 64 random bits (CA/Browser Forum). */
    static BigInteger newSerial() {
        return new BigInteger(119, RANDOM).setBit(118);
    }

    /** Adds an extension. */
    CertificateBuilder extension(ASN1ObjectIdentifier oid, boolean critical, ASN1Encodable value) {
        try {
            builder.addExtension(oid, critical, value);
            return this;
        } catch (CertIOException e) {
            throw new IllegalStateException("cannot build " + what + ": " + e.getMessage(), e);
        }
    }

    /** Signs with the issuer's key (or the root's own key) using {@code signatureAlgorithm}. */
    X509Certificate sign(PrivateKey issuerKey, String signatureAlgorithm) {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(signer(issuerKey, signatureAlgorithm)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build " + what + ": " + e.getMessage(), e);
        }
    }

    /** A content signer for {@code key}; used for certificates and CRLs. */
    static ContentSigner signer(PrivateKey key, String signatureAlgorithm) {
        try {
            return new JcaContentSignerBuilder(signatureAlgorithm).build(key);
        } catch (OperatorCreationException e) {
            throw new IllegalStateException("cannot sign with the CA key: " + e.getMessage(), e);
        }
    }
}
