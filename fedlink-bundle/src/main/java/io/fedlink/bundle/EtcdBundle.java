package io.fedlink.bundle;

import io.fedlink.api.HostNames;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.IssuedCertificate;
import io.fedlink.api.PemCodec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The etcd guide's mutual-TLS cluster from a fedlink CA, one certificate per member naming that member (the seed
 * notes a real cluster should not share one), a client certificate for etcdctl, and every member's flags.
 *
 * <pre>{@code
 * EtcdBundle.builder(ca).member("etcd-0", "10.0.0.1", 2379, 2380).member("etcd-1", "10.0.0.2", 2379, 2380)
 *         .member("etcd-2", "10.0.0.3", 2379, 2380).build().write(dir);
 * // ca.pem, etcd-0.pem  etcd-0-key.pem  etcd-0.flags, ..., client.pem  client-key.pem  etcdctl.flags
 * // etcd $(cat etcd-0.flags) --data-dir /var/lib/etcd      etcdctl $(cat etcdctl.flags) get /key
 * }</pre>
 *
 * <p>Each member certificate is a peer certificate (serverAuth and clientAuth) with the member's name and host as
 * subject alternative names. The flags turn on TLS on both ports with client certificates required
 * ({@code --client-cert-auth}, {@code --peer-client-cert-auth}) against the CA. A member listens on its listen
 * address when one is given, else on its host, which must then be an IP address: etcd binds addresses, not names, and
 * a member is never silently opened on every interface ({@code 0.0.0.0} or {@code ::} only when given). Advertised
 * URLs keep the host.
 */
public final class EtcdBundle implements Bundle {
    private final Builder b;

    /**
     * One member.
     *
     * @param name       the member name ({@code --name}), also a DNS name in its certificate
     * @param host       the DNS name or IP address other members and clients dial
     * @param listen     the IP address the member binds ({@code 0.0.0.0} or {@code ::}: every interface); null for
     *                   the host, which must then be an IP address
     * @param clientPort the client port (2379 by convention)
     * @param peerPort   the peer port (2380 by convention)
     */
    public record Member(String name, String host, String listen, int clientPort, int peerPort) {
        /** Validates the names, the listen address and the ports. */
        public Member {
            name = HostNames.canonicalDnsName(Objects.requireNonNull(name, "name"));
            String ip = HostNames.canonicalIpLiteral(host);
            host = ip != null ? ip : HostNames.canonicalDnsName(host);
            if (listen == null && ip == null) {
                throw new IllegalArgumentException("member " + name + ": host " + host + " is a name and etcd listens "
                        + "on IP addresses: give the member's listen address (--listen-address " + host + "=IP; "
                        + "0.0.0.0 or :: for every interface)");
            }
            String bind = listen == null ? ip : HostNames.canonicalIpLiteral(listen);
            if (bind == null) {
                throw new IllegalArgumentException("member " + name + ": listen address " + listen
                        + " is not an IP address (host " + host + ")");
            }
            listen = isEveryInterface(bind) ? (bind.contains(":") ? "::" : "0.0.0.0") : bind;
            for (int port : new int[] {clientPort, peerPort}) {
                if (port < 1 || port > 65535) {
                    throw new IllegalArgumentException("invalid port " + port + " for member " + name + ": 1..65535");
                }
            }
        }

        String url(int port) {
            return url(host, port);
        }

        String listenUrl(int port) {
            return url(listen, port);
        }

        private static String url(String address, int port) {
            return "https://" + (address.contains(":") ? "[" + address + "]" : address) + ":" + port;
        }

        /** The addresses this member occupies: its host and, unless every interface, its listen address. */
        List<String> addresses() {
            return isEveryInterface(listen) || listen.equals(host) ? List.of(host) : List.of(host, listen);
        }

        private static boolean isEveryInterface(String ip) {
            for (byte x : HostNames.parseIpLiteral(ip)) {
                if (x != 0) {
                    return false;
                }
            }
            return true;
        }
    }

    private EtcdBundle(Builder b) {
        this.b = b;
    }

    /** Starts a bundle whose certificates {@code ca} issues. */
    public static Builder builder(CertificateAuthority ca) {
        return new Builder(ca);
    }

    /** The members, in order. */
    public List<Member> members() {
        return List.copyOf(b.members);
    }

    /** Issues the certificates and writes the files and flags into {@code dir} (created with mode 0700). */
    @Override
    public WrittenBundle write(Path dir) throws IOException {
        BundleWriter w = new BundleWriter(dir);
        Path at = b.installDir != null ? b.installDir : w.dir().toAbsolutePath();
        w.plain("ca.pem", PemCodec.certificates(List.of(b.ca.root())));
        String cluster = b.members.stream().map(m -> m.name() + "=" + m.url(m.peerPort()))
                .collect(Collectors.joining(","));
        for (Member m : b.members) {
            IssuedCertificate cert = b.ca.issue(CertificateRequest.peer(m.name()).san(m.host()).days(b.days));
            w.plain(m.name() + ".pem", cert.chainPem());
            w.secret(m.name() + "-key.pem", cert.privateKeyPem());
            String pem = at.resolve(m.name() + ".pem").toString();
            String key = at.resolve(m.name() + "-key.pem").toString();
            String ca = at.resolve("ca.pem").toString();
            w.plain(m.name() + ".flags", String.join("\n",
                    "--name=" + m.name(),
                    "--listen-client-urls=" + m.listenUrl(m.clientPort()),
                    "--advertise-client-urls=" + m.url(m.clientPort()),
                    "--listen-peer-urls=" + m.listenUrl(m.peerPort()),
                    "--initial-advertise-peer-urls=" + m.url(m.peerPort()),
                    "--initial-cluster=" + cluster,
                    "--initial-cluster-state=new",
                    "--initial-cluster-token=" + b.clusterToken,
                    "--cert-file=" + pem, "--key-file=" + key, "--trusted-ca-file=" + ca, "--client-cert-auth",
                    "--peer-cert-file=" + pem, "--peer-key-file=" + key, "--peer-trusted-ca-file=" + ca,
                    "--peer-client-cert-auth", ""));
        }
        IssuedCertificate client = b.ca.issue(CertificateRequest.client(b.clientName).days(b.days));
        w.plain("client.pem", client.chainPem());
        w.secret("client-key.pem", client.privateKeyPem());
        w.plain("etcdctl.flags", String.join("\n",
                "--endpoints=" + b.members.stream().map(m -> m.url(m.clientPort())).collect(Collectors.joining(",")),
                "--cacert=" + at.resolve("ca.pem"), "--cert=" + at.resolve("client.pem"),
                "--key=" + at.resolve("client-key.pem"), ""));
        return new WrittenBundle(w.dir(), w.written());
    }

    /** Chooses the members. */
    public static final class Builder {
        private final CertificateAuthority ca;
        private final List<Member> members = new ArrayList<>();
        private String clusterToken = "fedlink-etcd";
        private String clientName = "etcdctl";
        private int days = CertificateRequest.DEFAULT_DAYS;
        private Path installDir;

        private Builder(CertificateAuthority ca) {
            this.ca = Objects.requireNonNull(ca, "ca");
        }

        /** Adds a member listening on its host, which must be an IP address. */
        public Builder member(String name, String host, int clientPort, int peerPort) {
            return member(name, host, null, clientPort, peerPort);
        }

        /**
         * Adds a member that binds {@code listenAddress} (an IP address; {@code 0.0.0.0} or {@code ::} for every
         * interface; null: its host, which must then be an IP address) and advertises {@code host}.
         */
        public Builder member(String name, String host, String listenAddress, int clientPort, int peerPort) {
            members.add(new Member(name, host, listenAddress, clientPort, peerPort));
            return this;
        }

        /**
         * Adds {@code n} members {@code etcd-0 .. etcd-<n-1>}, the i-th on {@code hosts[i]} (the last host for the
         * rest, {@code 127.0.0.1} when none is given), listening on {@code listen.get(host)} (default: the host, which
         * must then be an IP address). Members sharing a host get ports 2 apart from there on: client 2379, peer
         * 2380, the next member 2381, 2382, and so on.
         */
        public Builder members(int n, List<String> hosts, Map<String, String> listen, int clientPort, int peerPort) {
            if (n < 1 || n > 99) {
                throw new IllegalArgumentException("an etcd cluster has 1..99 members, was " + n + " (odd sizes "
                        + "tolerate failures best: 3 or 5)");
            }
            for (Map.Entry<String, String> e : new TreeMap<>(listen).entrySet()) {
                if (!hosts.contains(e.getKey())) {
                    throw new IllegalArgumentException("--listen-address " + e.getKey() + "=" + e.getValue()
                            + ": no member runs on " + e.getKey() + " (hosts: " + hosts + ")");
                }
            }
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String host = hosts.isEmpty() ? "127.0.0.1" : hosts.get(Math.min(i, hosts.size() - 1));
                int before = (int) seen.stream().filter(host::equals).count();
                seen.add(host);
                member("etcd-" + i, host, listen.get(host), clientPort + 2 * before, peerPort + 2 * before);
            }
            return this;
        }

        /** {@code --initial-cluster-token}; default {@code fedlink-etcd}. */
        public Builder clusterToken(String token) {
            this.clusterToken = HostNames.canonicalDnsName(token);
            return this;
        }

        /** The etcdctl client certificate's common name (an etcd user when RBAC is on); default {@code etcdctl}. */
        public Builder clientName(String cn) {
            this.clientName = Objects.requireNonNull(cn, "cn");
            return this;
        }

        /** Validity of the issued certificates in days (default 397). */
        public Builder days(int d) {
            this.days = d;
            return this;
        }

        /** Where the files will live on the members (the paths in the flags); default: the output folder. */
        public Builder installDir(Path dir) {
            this.installDir = dir;
            return this;
        }

        /** The bundle: at least one member, unique names, no two members on one host and port. */
        public EtcdBundle build() {
            if (members.isEmpty()) {
                throw new IllegalArgumentException("no members: add at least one");
            }
            Set<String> names = new HashSet<>();
            Set<String> bound = new HashSet<>();
            for (Member m : members) {
                if (!names.add(m.name())) {
                    throw new IllegalArgumentException("member name " + m.name() + " is used twice");
                }
                for (String address : m.addresses()) {
                    for (int port : new int[] {m.clientPort(), m.peerPort()}) {
                        if (!bound.add(address + ":" + port)) {
                            throw new IllegalArgumentException("two ports on " + address + ":" + port + " (member "
                                    + m.name() + "): give members on one host different ports");
                        }
                    }
                }
            }
            return new EtcdBundle(this);
        }
    }
}
