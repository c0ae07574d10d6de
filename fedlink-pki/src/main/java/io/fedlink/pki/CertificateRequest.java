package io.fedlink.pki;

import io.fedlink.api.HostNames;
import io.fedlink.api.PartyIds;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What to put in an end-entity certificate: a {@link Profile}, names (DNS, IP, URI), a common name, a key type and
 * a validity. The common name defaults to the first DNS name (else the first IP, else the profile's name).
 *
 * <pre>{@code
 * CertificateRequest.party("10000", "fate.org")                 // CN and SAN 10000.fate.org, server + client
 * CertificateRequest.server("broker.example").ip("127.0.0.1").days(825)
 * CertificateRequest.client("etcdctl")                         // a client certificate, CN etcdctl
 * CertificateRequest.of(Profile.CLI).commonName("operator")     // a command-line tool's client certificate
 * }</pre>
 *
 * <p>Names are validated when added: a DNS name must be an LDH name (a server certificate may use a {@code *.}
 * wildcard as its whole first label), an IP must be a literal, a URI must be absolute. Validity is 1..3650 days
 * (default 397, the CA/Browser Forum ceiling).
 */
public final class CertificateRequest {
    /** Default validity in days. */
    public static final int DEFAULT_DAYS = 397;
    /** Longest common name (RFC 5280 ub-common-name); longer DNS names make SAN-only certificates. */
    public static final int MAX_CN_LENGTH = 64;

    private final Profile profile;
    private final Set<String> dnsNames = new LinkedHashSet<>();
    private final Set<String> ipAddresses = new LinkedHashSet<>();
    private final Set<URI> uris = new LinkedHashSet<>();
    private String commonName;
    private String party; // set by party(...): the id the CA records the certificate under
    private KeyType keyType = KeyType.EC_P256;
    private int days = DEFAULT_DAYS;
    private Instant notBefore;
    private Instant notAfter;

    private CertificateRequest(Profile profile) {
        this.profile = Objects.requireNonNull(profile, "profile");
    }

    /** A request for {@code profile} with no names yet. */
    public static CertificateRequest of(Profile profile) {
        return new CertificateRequest(profile);
    }

    /** A TLS server certificate for these DNS names. */
    public static CertificateRequest server(String... dnsNames) {
        return of(Profile.SERVER).dns(dnsNames);
    }

    /** A TLS client certificate; the common name identifies the client. */
    public static CertificateRequest client(String commonName) {
        return of(Profile.CLIENT).commonName(commonName);
    }

    /** A certificate for both ends of mutual TLS (etcd members, Flink internal, Consul agents). */
    public static CertificateRequest peer(String... dnsNames) {
        return of(Profile.PEER).dns(dnsNames);
    }

    /**
     * A FATE party: CN and DNS name {@code <party>.<domain>} ({@code 10000.fate.org}), usable as broker (server)
     * and as replicator / client (client), as the FATE guide's brokers are. The party id is taken in its canonical
     * form ({@link PartyIds#canonical}: lower case; reserved names refused). This is a party's canonical identity:
     * enrollment and renewal issue exactly this. The CA records the certificate as the party's in its index (what
     * {@code fedlink pki party revoke} and renewals select by).
     */
    public static CertificateRequest party(String partyId, String domain) {
        String id = PartyIds.canonical(partyId);
        CertificateRequest r = peer(id + "." + HostNames.canonicalDnsName(domain));
        r.party = id;
        return r;
    }

    /** Adds DNS subject alternative names. */
    CertificateRequest dns(String... names) {
        for (String n : names) {
            dnsNames.add(canonicalDns(n));
        }
        return this;
    }

    /** Adds IP subject alternative names (literals only; never looked up). */
    public CertificateRequest ip(String... addresses) {
        for (String a : addresses) {
            String c = HostNames.canonicalIpLiteral(a);
            if (c == null) {
                throw new IllegalArgumentException("invalid IP address " + HostNames.quote(a));
            }
            ipAddresses.add(c);
        }
        return this;
    }

    /** Adds a URI subject alternative name (SPIFFE IDs and the like). */
    CertificateRequest uri(String uri) {
        URI u;
        try {
            u = new URI(uri);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("invalid URI " + HostNames.quote(uri) + ": " + e.getReason());
        }
        if (!u.isAbsolute()) {
            throw new IllegalArgumentException("invalid URI " + HostNames.quote(uri) + ": not absolute");
        }
        uris.add(u);
        return this;
    }

    /** Adds a name that may be a DNS name or an IP literal (CLI {@code --san}). */
    public CertificateRequest san(String name) {
        if (name.contains("://")) {
            return uri(name);
        }
        return HostNames.isIpLiteral(name) ? ip(name) : dns(name);
    }

    /** Sets the subject common name. */
    public CertificateRequest commonName(String cn) {
        if (cn == null || cn.isBlank() || cn.length() > MAX_CN_LENGTH) {
            throw new IllegalArgumentException("invalid common name " + HostNames.quote(cn) + ": 1.." + MAX_CN_LENGTH
                    + " characters");
        }
        for (char c : cn.toCharArray()) {
            if (c < 0x20 || c == 0x7f) {
                throw new IllegalArgumentException("invalid common name " + HostNames.quote(cn)
                        + ": control characters");
            }
        }
        this.commonName = cn;
        return this;
    }

    /** Sets the key type of the generated key (EC P-256 by default). */
    public CertificateRequest keyType(KeyType type) {
        this.keyType = Objects.requireNonNull(type, "type");
        return this;
    }

    /** Sets the validity in days from now (1..3650). */
    public CertificateRequest days(int days) {
        if (days < 1 || days > 3650) {
            throw new IllegalArgumentException("validity must be 1..3650 days, was " + days);
        }
        this.days = days;
        this.notBefore = null;
        this.notAfter = null;
        return this;
    }

    /** Sets an explicit validity window (tests of expiry, backdated renewals). */
    CertificateRequest validity(Instant notBefore, Instant notAfter) {
        if (!notAfter.isAfter(notBefore)) {
            throw new IllegalArgumentException("notAfter " + notAfter + " is not after notBefore " + notBefore);
        }
        this.notBefore = notBefore;
        this.notAfter = notAfter;
        return this;
    }

    /** The profile. */
    Profile profile() {
        return profile;
    }

    /** The party id recorded with the certificate, or {@code null} when it is not a party's ({@link #party}). */
    String party() {
        return party;
    }

    /** The DNS names, in order added. */
    List<String> dnsNames() {
        return List.copyOf(dnsNames);
    }

    /** The IP addresses, in order added. */
    List<String> ipAddresses() {
        return List.copyOf(ipAddresses);
    }

    /** The URIs, in order added. */
    List<URI> uris() {
        return List.copyOf(uris);
    }

    /** The key type of the generated key. */
    KeyType keyType() {
        return keyType;
    }

    /**
     * The effective common name, or {@code null} for a SAN-only certificate: when no common name was set and the
     * first DNS name is longer than a CN may be (64 characters).
     */
    String effectiveCommonName() {
        if (commonName != null) {
            return commonName;
        }
        if (!dnsNames.isEmpty()) {
            String first = dnsNames.iterator().next();
            return first.length() <= MAX_CN_LENGTH ? first : null;
        }
        if (!ipAddresses.isEmpty()) {
            return ipAddresses.iterator().next();
        }
        return profile.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The validity window {notBefore, notAfter} for a certificate issued at {@code now}. */
    Instant[] window(Instant now) {
        if (notBefore != null) {
            return new Instant[] {notBefore, notAfter};
        }
        return new Instant[] {now.minus(Duration.ofMinutes(5)), now.plus(Duration.ofDays(days))};
    }

    private static String canonicalDns(String n) {
        if (n != null && n.startsWith("*.")) {
            return "*." + HostNames.canonicalDnsName(n.substring(2));
        }
        return HostNames.canonicalDnsName(n);
    }
}
