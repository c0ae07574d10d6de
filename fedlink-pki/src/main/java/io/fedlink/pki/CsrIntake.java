package io.fedlink.pki;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.PublicKey;
import java.security.interfaces.RSAPublicKey;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;

/**
 * Reads a PKCS#10 CSR: verifies its signature (with the BouncyCastle provider, so EC P-256/P-384, RSA and Ed25519
 * all verify), refuses RSA keys below 2048 bits, and turns its common name and SAN request (DNS, IP, URI) into a {@link CertificateRequest}. The key
 * stays the requester's: only its public half comes back.
 */
final class CsrIntake {
    /** A CSR's request and the requester's public key. */
    record Intake(CertificateRequest request, PublicKey publicKey) {}

    /** The smallest RSA key signed (NIST SP 800-131A). */
    static final int MIN_RSA_BITS = 2048;

    private CsrIntake() {}

    /** Reads {@code csrPem} as a request under {@code profile}, valid {@code days}. */
    static Intake read(String csrPem, Profile profile, int days) {
        PKCS10CertificationRequest csr = Pem.csr(csrPem);
        PublicKey publicKey;
        try {
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(Pem.BC)
                    .build(csr.getSubjectPublicKeyInfo()))) {
                throw new IllegalArgumentException("the CSR's signature does not verify: it was altered or "
                        + "not signed by the key it carries");
            }
            publicKey = new JcaPEMKeyConverter().getPublicKey(csr.getSubjectPublicKeyInfo());
        } catch (OperatorCreationException | PKCSException | IOException e) {
            throw new IllegalArgumentException("cannot verify the CSR: " + e.getMessage(), e);
        }
        if (publicKey instanceof RSAPublicKey rsa && rsa.getModulus().bitLength() < MIN_RSA_BITS) {
            throw new IllegalArgumentException("the CSR's key is RSA of " + rsa.getModulus().bitLength() + " bits: "
                    + "this CA needs RSA of at least " + MIN_RSA_BITS + " bits, or better EC P-256");
        }
        CertificateRequest request = CertificateRequest.of(profile).days(days);
        var cns = csr.getSubject().getRDNs(BCStyle.CN);
        String cn = cns.length == 0 ? null : IETFUtils.valueToString(cns[0].getFirst().getValue());
        if (cn != null) {
            request.commonName(cn);
        }
        for (var attr : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
            GeneralNames sans = GeneralNames.fromExtensions(
                    Extensions.getInstance(attr.getAttrValues().getObjectAt(0)), Extension.subjectAlternativeName);
            for (GeneralName n : sans == null ? new GeneralName[0] : sans.getNames()) {
                switch (n.getTagNo()) {
                    case GeneralName.dNSName -> request.dns(DERIA5String.getInstance(n.getName()).getString());
                    case GeneralName.iPAddress -> request.ip(ipText(n));
                    case GeneralName.uniformResourceIdentifier ->
                            request.uri(DERIA5String.getInstance(n.getName()).getString());
                    default -> throw new IllegalArgumentException("the CSR asks for a subject alternative name of "
                            + "type " + n.getTagNo() + ", which fedlink does not issue");
                }
            }
        }
        if (ProfileRules.takesCommonNameAsSan(request, cn)) {
            request.dns(cn);
        }
        return new Intake(request, publicKey);
    }

    private static String ipText(GeneralName n) {
        byte[] raw = ASN1OctetString.getInstance(n.getName()).getOctets();
        try {
            return InetAddress.getByAddress(raw).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("the CSR holds an IP address of " + raw.length + " bytes");
        }
    }
}
