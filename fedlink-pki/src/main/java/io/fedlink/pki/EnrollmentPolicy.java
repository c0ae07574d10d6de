package io.fedlink.pki;

import io.fedlink.api.HostNames;
import io.fedlink.api.PartyIds;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.KeyPurposeId;

/**
 * What the CA side signs for enrolling and renewing parties: exactly the party's canonical identity
 * ({@link #identity}: what {@code fedlink pki cert create --party ID} issues, CN and DNS name {@code <id>.<domain>},
 * server and client), the key types accepted (within {@link KeyType#ACCEPTED}), the longest lifetime. A CSR only
 * asks; the names come from the party id the CA recorded (the token's, or the presented party certificate's).
 *
 * <p>Built with {@link #of} and {@link #withMaxLifetime}; immutable.
 */
final class EnrollmentPolicy {
    /** Default lifetime: one day, renewed after about 16 hours. */
    public static final Duration DEFAULT_LIFETIME = Duration.ofHours(24);

    private final String domain;
    private final Duration maxLifetime;
    private final Set<KeyType> keyTypes;
    private final Profile profile;

    /**
     * Validates and copies.
     *
     * @param domain       the federation's domain, e.g. {@code fate.org}
     * @param maxLifetime  the longest validity issued (and the default when a request names none)
     * @param keyTypes     the key types accepted in CSRs
     * @param profile      the profile of issued certificates: only {@link Profile#PEER}, the party profile (broker
     *                     and client); enrollment issues party certificates and nothing else
     */
    EnrollmentPolicy(String domain, Duration maxLifetime, Set<KeyType> keyTypes, Profile profile) {
        this.domain = HostNames.canonicalDnsName(Objects.requireNonNull(domain, "domain"));
        if (maxLifetime.isNegative() || maxLifetime.isZero()) {
            throw new IllegalArgumentException("the maximum lifetime must be positive, was " + maxLifetime);
        }
        this.maxLifetime = maxLifetime;
        this.keyTypes = Set.copyOf(keyTypes);
        if (profile != Profile.PEER) {
            throw new IllegalArgumentException("enrollment issues only party certificates (the peer profile), not "
                    + profile + ": issue other roles with 'fedlink pki cert create --role'");
        }
        this.profile = profile;
    }

    /** The federation's domain, e.g. {@code fate.org}. */
    public String domain() {
        return domain;
    }

    /** The longest validity issued (and the default when a request names none). */
    Duration maxLifetime() {
        return maxLifetime;
    }

    /** The key types accepted in CSRs. */
    Set<KeyType> keyTypes() {
        return keyTypes;
    }

    /** The profile of issued certificates (the party profile). */
    Profile profile() {
        return profile;
    }

    /** Peer certificates under {@code domain} of every key type, for {@link #DEFAULT_LIFETIME}. */
    public static EnrollmentPolicy of(String domain) {
        return new EnrollmentPolicy(domain, DEFAULT_LIFETIME, EnumSet.allOf(KeyType.class), Profile.PEER);
    }

    /** A copy with another maximum lifetime. */
    public EnrollmentPolicy withMaxLifetime(Duration max) {
        return new EnrollmentPolicy(domain, max, keyTypes, profile);
    }

    /** The DNS name of {@code party}: {@code <party>.<domain>}, the party id in its canonical form. */
    String partyName(String party) {
        return PartyIds.canonical(party) + "." + domain;
    }

    /**
     * The canonical identity of {@code party}, the only one enrollment and renewal issue to it: the request
     * {@code fedlink pki cert create --party ID --domain DOMAIN} makes (CN and the one DNS name
     * {@code <id>.<domain>}, the peer profile: serverAuth and clientAuth).
     *
     * @throws IllegalArgumentException when {@code party} is not a valid, unreserved party id ({@link PartyIds})
     */
    CertificateRequest identity(String party) {
        return CertificateRequest.party(party, domain);
    }

    /**
     * The party whose canonical {@link #identity} {@code cert} is, or {@code null} when it is anything else: its
     * subject is exactly {@code CN=<id>.<domain>}, its only alternative name that DNS name, its extended key usage
     * exactly serverAuth and clientAuth, and it is no CA. An operator's client, server or other certificate, or one
     * with more names, is not a party certificate, whatever names it shares with one.
     */
    String partyOf(X509Certificate cert) {
        String suffix = "." + domain;
        try {
            List<String> eku = cert.getExtendedKeyUsage();
            var sans = cert.getSubjectAlternativeNames();
            if (cert.getBasicConstraints() >= 0 || eku == null || eku.size() != 2
                    || !eku.containsAll(List.of(KeyPurposeId.id_kp_serverAuth.getId(),
                            KeyPurposeId.id_kp_clientAuth.getId()))
                    || sans == null || sans.size() != 1) {
                return null;
            }
            List<?> san = sans.iterator().next();
            String name = san.get(1).toString();
            if ((Integer) san.get(0) != 2 || !name.endsWith(suffix)) {
                return null;
            }
            String id = name.substring(0, name.length() - suffix.length());
            if (!PartyIds.isValid(id) || PartyIds.isReserved(id) || !id.equals(PartyIds.canonical(id))
                    || !cert.getSubjectX500Principal().equals(new X500Principal("CN=" + name))) {
                return null;
            }
            return id;
        } catch (CertificateParsingException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return "EnrollmentPolicy[domain=" + domain + ", maxLifetime=" + maxLifetime + ", keyTypes=" + keyTypes
                + ", profile=" + profile + "]";
    }
}
