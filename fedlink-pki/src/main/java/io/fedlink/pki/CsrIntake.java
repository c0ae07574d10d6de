package io.fedlink.pki;

import io.fedlink.api.HostNames;
import io.fedlink.pki.internal.Keys;
import io.fedlink.pki.internal.Pem;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
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
 * Reads a PKCS#10 CSR: verifies its signature (with the BouncyCastle provider, so EC, RSA and Ed25519 all verify),
 * refuses keys outside the key policy ({@link io.fedlink.pki.internal.Keys#of}: RSA 2048..8192, EC P-256/P-384/P-521, Ed25519) and
 * returns what it asks for. The key stays the requester's: only its public half comes back.
 *
 * <p>Two uses: the operator's {@code fedlink pki cert sign} ({@link #read}) takes the CSR's common name and SAN
 * request (DNS, IP, URI) as the names to issue, because the operator chose to sign that CSR; enrollment and renewal
 * ({@link #parse} and {@link Csr#requireOnly}) never take a name from the CSR: they only check that it asks for
 * nothing but the party's canonical identity, which the CA then issues from what it knows.
 */
final class CsrIntake {
    /** A CSR's request and the requester's public key. */
    record Intake(CertificateRequest request, PublicKey publicKey) {}

    /**
     * A verified CSR as it was sent: its key, subject and subject-alternative-name request (every form).
     *
     * @param publicKey the requester's public key, within the key policy
     * @param subject   the subject asked for (may be empty)
     * @param sans      the SANs asked for, in the CSR's order (empty when none)
     */
    record Csr(PublicKey publicKey, X500Name subject, List<GeneralName> sans) {
        /** The subject as text (RFC 4514 order, as openssl's {@code -subj} reads it), or {@code ''} when empty. */
        String subjectText() {
            return subject.getRDNs().length == 0 ? "" : new javax.security.auth.x500.X500Principal(
                    encoded(subject)).getName();
        }

        /** The SAN request as {@code DNS:name}, {@code IP:addr}, {@code URI:uri}, other forms by their tag. */
        List<String> sanTexts() {
            List<String> out = new ArrayList<>();
            for (GeneralName n : sans) {
                out.add(switch (n.getTagNo()) {
                    case GeneralName.dNSName -> "DNS:" + DERIA5String.getInstance(n.getName()).getString();
                    case GeneralName.iPAddress -> "IP:" + ipText(n);
                    case GeneralName.uniformResourceIdentifier ->
                            "URI:" + DERIA5String.getInstance(n.getName()).getString();
                    case GeneralName.rfc822Name -> "email:" + DERIA5String.getInstance(n.getName()).getString();
                    default -> "a name of type " + n.getTagNo();
                });
            }
            return out;
        }

        /**
         * Refuses this CSR unless it asks for nothing but {@code identity}: its subject is empty or exactly
         * {@code CN=<identity's common name>} (one attribute, no O, OU or any other), and every SAN it asks for is
         * one of {@code identity}'s DNS names (none at all is fine). DNS names and the common name compare without
         * case, as DNS names do; nothing is copied from the CSR.
         *
         * @param who for the message, e.g. {@code party 10000}
         * @throws IllegalArgumentException naming what the CSR asked for and what {@code who} may have
         */
        void requireOnly(CertificateRequest identity, String who) {
            String cn = identity.effectiveCommonName();
            Set<String> allowed = new LinkedHashSet<>();
            identity.dnsNames().forEach(d -> allowed.add("DNS:" + d));
            List<String> asked = sanTexts();
            boolean subjectOk = subject.getRDNs().length == 0 || (subject.getRDNs().length == 1
                    && !subject.getRDNs()[0].isMultiValued() && isCommonName(subject.getRDNs()[0], cn));
            boolean sansOk = asked.stream().allMatch(s -> allowed.stream().anyMatch(s::equalsIgnoreCase));
            if (!subjectOk || !sansOk) {
                // the requester's text, quoted (control characters escaped, each cut at 80) and at most 8 names
                List<String> shown = asked.stream().limit(8).map(HostNames::quote).toList();
                throw new IllegalArgumentException("the CSR asks for subject " + HostNames.quote(subjectText())
                        + (asked.isEmpty() ? " and no subject alternative names" : " and names " + shown
                                + (asked.size() > 8 ? " and " + (asked.size() - 8) + " more" : "")) + ": "
                        + who + " may have only CN=" + cn + " and " + String.join(", ", allowed)
                        + " (send an empty subject and no names, and the CA fills them in)");
            }
        }

        private static boolean isCommonName(RDN rdn, String cn) {
            var atv = rdn.getFirst();
            return atv.getType().equals(BCStyle.CN) && atv.getValue() instanceof ASN1String s
                    && s.getString().equalsIgnoreCase(cn);
        }
    }

    private CsrIntake() {}

    /** Verifies {@code csrPem}'s signature and key; returns what it asks for, unchecked. */
    static Csr parse(String csrPem) {
        PKCS10CertificationRequest csr = Pem.csr(csrPem);
        PublicKey publicKey;
        try {
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(Pem.BC)
                    .build(csr.getSubjectPublicKeyInfo()))) {
                throw new IllegalArgumentException("the CSR's signature does not verify: it was altered or "
                        + "not signed by the key it carries");
            }
            publicKey = publicKey(csr);
        } catch (OperatorCreationException | PKCSException | IOException e) {
            throw new IllegalArgumentException("cannot verify the CSR: " + e.getMessage(), e);
        }
        try {
            Keys.of(publicKey);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the CSR's key is " + Keys.describe(publicKey) + ": this CA "
                    + "accepts " + KeyType.ACCEPTED, e);
        }
        List<GeneralName> sans = new ArrayList<>();
        for (var attr : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
            GeneralNames names = GeneralNames.fromExtensions(
                    Extensions.getInstance(attr.getAttrValues().getObjectAt(0)), Extension.subjectAlternativeName);
            sans.addAll(List.of(names == null ? new GeneralName[0] : names.getNames()));
        }
        return new Csr(publicKey, csr.getSubject(), sans);
    }

    /** Reads {@code csrPem} as the operator's request under {@code profile}, valid {@code days}: its names issued. */
    static Intake read(String csrPem, Profile profile, int days) {
        Csr csr = parse(csrPem);
        CertificateRequest request = CertificateRequest.of(profile).days(days);
        var cns = csr.subject().getRDNs(BCStyle.CN);
        String cn = cns.length == 0 ? null : IETFUtils.valueToString(cns[0].getFirst().getValue());
        if (cn != null) {
            request.commonName(cn);
        }
        for (GeneralName n : csr.sans()) {
            switch (n.getTagNo()) {
                case GeneralName.dNSName -> request.dns(DERIA5String.getInstance(n.getName()).getString());
                case GeneralName.iPAddress -> request.ip(ipText(n));
                case GeneralName.uniformResourceIdentifier ->
                        request.uri(DERIA5String.getInstance(n.getName()).getString());
                default -> throw new IllegalArgumentException("the CSR asks for a subject alternative name of "
                        + "type " + n.getTagNo() + ", which fedlink does not issue");
            }
        }
        if (ProfileRules.takesCommonNameAsSan(request, cn)) {
            request.dns(cn);
        }
        return new Intake(request, csr.publicKey());
    }

    /** The CSR's key as a JDK key, or as a BouncyCastle one when the JDK does not know its kind (to refuse it). */
    private static PublicKey publicKey(PKCS10CertificationRequest csr) throws IOException {
        try {
            return new JcaPEMKeyConverter().getPublicKey(csr.getSubjectPublicKeyInfo());
        } catch (IOException e) {
            return new JcaPEMKeyConverter().setProvider(Pem.BC).getPublicKey(csr.getSubjectPublicKeyInfo());
        }
    }

    private static byte[] encoded(X500Name name) {
        try {
            return name.getEncoded();
        } catch (IOException e) {
            throw new IllegalArgumentException("the CSR's subject cannot be encoded: " + e.getMessage(), e);
        }
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
