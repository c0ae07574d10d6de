package io.fedlink.pki;

import io.fedlink.api.CidrBlock;
import io.fedlink.api.HostNames;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.NameConstraints;

/**
 * The names a CA may issue (its X.509 name constraints): DNS suffixes, IP blocks and URI host domains. A CA with
 * DNS constraints issues no IP address or URI unless that kind is permitted too; its certificate then excludes every
 * IP range ({@code 0.0.0.0/0}, {@code ::/0}) so that relying parties (openssl, JSSE) enforce the same rule.
 */
record NameRules(List<String> dns, List<CidrBlock> ip, List<String> uriDomains) {
    static final NameRules NONE = new NameRules(List.of(), List.of(), List.of());
    private static final byte[] ALL_V4 = new byte[8];
    private static final byte[] ALL_V6 = new byte[32];

    NameRules {
        dns = List.copyOf(dns);
        ip = List.copyOf(ip);
        uriDomains = List.copyOf(uriDomains);
    }

    /** Whether any kind of name is constrained. */
    boolean isEmpty() {
        return dns.isEmpty() && ip.isEmpty() && uriDomains.isEmpty();
    }

    /** The canonical form of a permitted DNS or URI domain ({@code .fate.org} and {@code fate.org.} -> fate.org). */
    static String domain(String d) {
        return HostNames.canonicalDnsName(d != null && d.startsWith(".") ? d.substring(1) : d);
    }

    /** Refuses every name of {@code request} that these rules do not permit, naming it. */
    void check(CertificateRequest request) {
        if (isEmpty()) {
            return;
        }
        List<String> names = new ArrayList<>(request.dnsNames());
        String cn = request.effectiveCommonName();
        if (cn != null && HostNames.isDnsName(cn) && cn.contains(".")) {
            names.add(HostNames.canonicalDnsName(cn));
        }
        if (!dns.isEmpty()) {
            for (String n : names) {
                if (!withinDomains(n.startsWith("*.") ? n.substring(2) : n, dns)) {
                    throw outside("name", n, dns);
                }
            }
        }
        boolean strict = !dns.isEmpty();
        for (String a : request.ipAddresses()) {
            if ((strict || !ip.isEmpty()) && ip.stream().noneMatch(b -> b.contains(address(a)))) {
                throw ip.isEmpty() ? none("IP address", "IP addresses", a, "permitIp / --permit-ip CIDR") : outside("IP address", a, ip);
            }
        }
        for (URI u : request.uris()) {
            String host = u.getHost();
            if ((strict || !uriDomains.isEmpty()) && (host == null || !withinDomains(host.toLowerCase(
                    java.util.Locale.ROOT), uriDomains))) {
                throw uriDomains.isEmpty() ? none("URI", "URIs", u.toString(),
                        "permitUriDomain / --permit-uri-domain DOMAIN")
                        : outside("URI", u.toString(), uriDomains);
            }
        }
    }

    private IllegalArgumentException outside(String kind, String value, List<?> permitted) {
        return new IllegalArgumentException(kind + " " + HostNames.quote(value) + " is outside this CA's name "
                + "constraints " + permitted);
    }

    private IllegalArgumentException none(String kind, String plural, String value, String how) {
        return new IllegalArgumentException(kind + " " + HostNames.quote(value) + " is outside this CA's name "
                + "constraints " + dns + ": it permits no " + plural + " (a CA permits them only when created with "
                + how + ")");
    }

    static boolean withinDomains(String name, List<String> domains) {
        for (String p : domains) {
            if (name.equals(p) || name.endsWith("." + p)) {
                return true;
            }
        }
        return false;
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByAddress(HostNames.parseIpLiteral(literal));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("invalid IP address " + HostNames.quote(literal), e);
        }
    }

    /**
     * Checks that a child CA's rules lie within these (a parent's) and returns the child's effective rules: each
     * kind the child leaves empty is inherited.
     */
    NameRules narrowedBy(NameRules child) {
        for (String d : child.dns) {
            if (!dns.isEmpty() && !withinDomains(d, dns)) {
                throw new IllegalArgumentException("permitted name " + HostNames.quote(d)
                        + " is outside the parent's name constraints " + dns);
            }
        }
        for (CidrBlock b : child.ip) {
            InetAddress net = address(b.toString().substring(0, b.toString().indexOf('/')));
            if ((!dns.isEmpty() || !ip.isEmpty()) && ip.stream().noneMatch(
                    p -> p.contains(net) && p.prefixLength() <= b.prefixLength())) {
                throw new IllegalArgumentException("permitted IP block " + b + " is outside the parent's name "
                        + "constraints " + ip);
            }
        }
        for (String d : child.uriDomains) {
            if ((!dns.isEmpty() || !uriDomains.isEmpty()) && !withinDomains(d, uriDomains)) {
                throw new IllegalArgumentException("permitted URI domain " + HostNames.quote(d)
                        + " is outside the parent's name constraints " + uriDomains);
            }
        }
        return new NameRules(child.dns.isEmpty() ? dns : child.dns, child.ip.isEmpty() ? ip : child.ip,
                child.uriDomains.isEmpty() ? uriDomains : child.uriDomains);
    }

    /** The critical name-constraints extension for a CA certificate, or {@code null} when unconstrained. */
    NameConstraints extension() {
        if (isEmpty()) {
            return null;
        }
        List<GeneralSubtree> permitted = new ArrayList<>();
        dns.forEach(d -> permitted.add(new GeneralSubtree(new GeneralName(GeneralName.dNSName, d))));
        for (CidrBlock b : ip) {
            permitted.add(new GeneralSubtree(new GeneralName(GeneralName.iPAddress, new DEROctetString(octets(b)))));
        }
        for (String d : uriDomains) { // RFC 5280 4.2.1.10: "host" is that host, ".host" its subdomains
            permitted.add(new GeneralSubtree(new GeneralName(GeneralName.uniformResourceIdentifier, d)));
            permitted.add(new GeneralSubtree(new GeneralName(GeneralName.uniformResourceIdentifier, "." + d)));
        }
        GeneralSubtree[] excluded = null;
        if (!dns.isEmpty() && ip.isEmpty()) {
            excluded = new GeneralSubtree[] {
                new GeneralSubtree(new GeneralName(GeneralName.iPAddress, new DEROctetString(ALL_V4))),
                new GeneralSubtree(new GeneralName(GeneralName.iPAddress, new DEROctetString(ALL_V6)))};
        }
        return new NameConstraints(permitted.toArray(GeneralSubtree[]::new), excluded);
    }

    private static byte[] octets(CidrBlock b) {
        String s = b.toString();
        byte[] net = HostNames.parseIpLiteral(s.substring(0, s.indexOf('/')));
        byte[] out = Arrays.copyOf(net, net.length * 2);
        for (int bit = 0; bit < b.prefixLength(); bit++) {
            out[net.length + bit / 8] |= (byte) (0x80 >>> (bit % 8));
        }
        return out;
    }

    /** The rules a CA certificate's name-constraints extension states (permitted subtrees). */
    static NameRules of(X509Certificate cert) {
        byte[] ext = cert.getExtensionValue(Extension.nameConstraints.getId());
        if (ext == null) {
            return NONE;
        }
        NameConstraints nc = NameConstraints.getInstance(ASN1OctetString.getInstance(ext).getOctets());
        List<String> dns = new ArrayList<>();
        List<CidrBlock> ip = new ArrayList<>();
        List<String> uri = new ArrayList<>();
        for (GeneralSubtree t : nc.getPermittedSubtrees() == null ? new GeneralSubtree[0] : nc.getPermittedSubtrees()) {
            GeneralName base = t.getBase();
            switch (base.getTagNo()) {
                case GeneralName.dNSName -> dns.add(domain(DERIA5String.getInstance(base.getName()).getString()));
                case GeneralName.iPAddress -> ip.add(block(ASN1OctetString.getInstance(base.getName()).getOctets()));
                case GeneralName.uniformResourceIdentifier -> {
                    String d = domain(DERIA5String.getInstance(base.getName()).getString());
                    if (!uri.contains(d)) {
                        uri.add(d);
                    }
                }
                default -> { } // other name forms are not fedlink's to issue
            }
        }
        return new NameRules(dns, ip, uri);
    }

    private static CidrBlock block(byte[] octets) {
        int half = octets.length / 2;
        int prefix = 0;
        for (int i = half; i < octets.length; i++) {
            prefix += Integer.bitCount(octets[i] & 0xff);
        }
        try {
            return CidrBlock.parse(InetAddress.getByAddress(Arrays.copyOf(octets, half)).getHostAddress() + "/"
                    + prefix);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("the CA certificate holds an IP constraint of " + octets.length
                    + " bytes", e);
        }
    }
}
