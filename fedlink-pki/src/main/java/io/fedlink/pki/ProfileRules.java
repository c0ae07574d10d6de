package io.fedlink.pki;

import io.fedlink.api.HostNames;
import io.fedlink.pki.internal.Keys;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;

/**
 * What each {@link Profile} puts into an end-entity certificate and which names it may carry: the extended key usage
 * (serverAuth / clientAuth), the key usage that fits the key (RSA: digitalSignature + keyEncipherment; EC and
 * Ed25519: digitalSignature), that server and peer certificates name at least one host (DNS or IP) and may take a
 * CSR's host-name CN as their DNS SAN, and that only server certificates may carry a {@code *.} wildcard. (Consul's
 * own certificate forms are written by fedlink-bundle's {@code ConsulBundle}.)
 */
final class ProfileRules {
    private ProfileRules() {}

    /** Refuses a request that breaks its profile's naming rules, naming the problem. */
    static void validate(CertificateRequest request) {
        Profile profile = request.profile();
        if (profile.serverAuth() && request.dnsNames().isEmpty() && request.ipAddresses().isEmpty()) {
            throw new IllegalArgumentException("a " + profile.name().toLowerCase(Locale.ROOT)
                    + " certificate needs at least one DNS name or IP address (clients verify it)");
        }
        if (profile != Profile.SERVER) {
            for (String d : request.dnsNames()) {
                if (d.startsWith("*.")) {
                    throw new IllegalArgumentException("wildcard DNS name " + HostNames.quote(d)
                            + " is allowed only in server certificates");
                }
            }
        }
    }

    /**
     * Whether a CSR's common name becomes the DNS SAN: openssl's classic CSR (the FATE guide's) puts the host name
     * only in the CN, and modern clients ignore the CN.
     */
    static boolean takesCommonNameAsSan(CertificateRequest request, String cn) {
        return request.profile().serverAuth() && request.dnsNames().isEmpty() && request.ipAddresses().isEmpty()
                && cn != null && HostNames.isDnsName(cn);
    }

    /** The critical key usage of {@code request}'s certificate for {@code subjectKey}. */
    static KeyUsage keyUsage(CertificateRequest request, PublicKey subjectKey) {
        boolean encipherment = Keys.of(subjectKey).isRsa();
        return new KeyUsage(encipherment
                ? KeyUsage.digitalSignature | KeyUsage.keyEncipherment : KeyUsage.digitalSignature);
    }

    /** The extended key usage of {@code request}'s certificate, or null when it carries none. */
    static ExtendedKeyUsage extendedKeyUsage(CertificateRequest request) {
        List<KeyPurposeId> eku = new ArrayList<>();
        if (request.profile().serverAuth()) {
            eku.add(KeyPurposeId.id_kp_serverAuth);
        }
        if (request.profile().clientAuth()) {
            eku.add(KeyPurposeId.id_kp_clientAuth);
        }
        return eku.isEmpty() ? null : new ExtendedKeyUsage(eku.toArray(KeyPurposeId[]::new));
    }

    /** The key usage of a CA certificate. */
    static KeyUsage caKeyUsage() {
        return new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature);
    }
}
