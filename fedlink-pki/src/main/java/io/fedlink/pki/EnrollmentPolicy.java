package io.fedlink.pki;

import io.fedlink.api.HostNames;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * What the CA side signs for enrolling and renewing parties: names only {@code <party>.<domain>} and names under it
 * (the requesting party's own), the key types accepted (RSA below 2048 bits never), the longest lifetime and the
 * profile of the certificates.
 *
 * @param domain       the federation's domain, e.g. {@code fate.org}
 * @param maxLifetime  the longest validity issued (and the default when a request names none)
 * @param keyTypes     the key types accepted in CSRs
 * @param profile      the profile of issued certificates ({@link Profile#PEER}: broker and client)
 */
public record EnrollmentPolicy(String domain, Duration maxLifetime, Set<KeyType> keyTypes, Profile profile) {
    /** Default lifetime: one day, renewed after about 16 hours. */
    public static final Duration DEFAULT_LIFETIME = Duration.ofHours(24);

    /** Validates and copies. */
    public EnrollmentPolicy {
        domain = HostNames.canonicalDnsName(Objects.requireNonNull(domain, "domain"));
        if (maxLifetime.isNegative() || maxLifetime.isZero()) {
            throw new IllegalArgumentException("the maximum lifetime must be positive, was " + maxLifetime);
        }
        keyTypes = Set.copyOf(keyTypes);
        Objects.requireNonNull(profile, "profile");
    }

    /** Peer certificates under {@code domain} of every key type, for {@link #DEFAULT_LIFETIME}. */
    public static EnrollmentPolicy of(String domain) {
        return new EnrollmentPolicy(domain, DEFAULT_LIFETIME, EnumSet.allOf(KeyType.class), Profile.PEER);
    }

    /** A copy with another maximum lifetime. */
    public EnrollmentPolicy withMaxLifetime(Duration max) {
        return new EnrollmentPolicy(domain, max, keyTypes, profile);
    }

    /** The DNS name of {@code party}: {@code <party>.<domain>}. */
    public String partyName(String party) {
        return party + "." + domain;
    }
}
