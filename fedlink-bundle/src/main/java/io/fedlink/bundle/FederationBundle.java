package io.fedlink.bundle;

import io.fedlink.api.Endpoint;
import io.fedlink.api.HostNames;
import io.fedlink.api.PartyIds;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.TlsFiles;
import io.fedlink.federation.Federation;
import io.fedlink.federation.FederationFile;
import io.fedlink.federation.PulsarRouteTable;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pulsar.BrokerTlsConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A whole FATE star network from one description (a {@link FederationFile}): one folder per host, as the FATE
 * "Exchange with Pulsar" guide sets up host by host.
 *
 * <pre>
 * domain: fate.org
 * proxy: { host: proxy.fate.org, port: 443 }          # what parties dial; listen defaults to 0.0.0.0:port
 * parties:
 *   - { id: "10000", address: 192.168.0.2 }          # port 6650 and sslPort 6651 unless given
 *   - { id: "9999", address: 192.168.0.3 }
 * </pre>
 *
 * <p>Writes {@code proxy/sni.yaml} (each party's name to its broker's TLS port) and {@code proxy/fedlink-proxy.service}
 * (a systemd unit example), and per party {@code party-<id>/}: {@code cert.pem} (CN and DNS
 * {@code <id>.<domain>}, server and client), {@code key.pem} (PKCS#8, mode 0600), {@code ca.pem},
 * {@code standalone-tls.conf} (the broker's cluster name and TLS lines, {@link BrokerTlsConfig}, mutual TLS
 * required, the party's ports and its advertised name {@code <id>.<domain>}), {@code pulsar_route_table.yaml}
 * (itself, marked {@code local: true}, and the {@code default} entry that reaches every other party through the
 * proxy) and {@code service_conf.yaml} (FATE's pulsar section: the same cluster name, host, ports and route table).
 * Keys are never printed.
 */
public final class FederationBundle implements Bundle {
    /** The broker's admin port (Pulsar's {@code webServicePort} default), FATE's {@code mng_port}. */
    static final int PULSAR_WEB_PORT = 8080;
    /** The description key of a host's install folder ({@code proxy.install_dir}, {@code parties[i].install_dir}). */
    public static final String INSTALL_DIR = FederationFile.INSTALL_DIR;
    /** Where the proxy's files go on its host when neither the description nor the caller says. */
    public static final Path DEFAULT_PROXY_INSTALL_DIR = Path.of("/etc/fedlink/proxy");
    /**
     * The folders the proxy's systemd unit cannot read: {@code ProtectHome=yes} hides {@code /home}, {@code /root}
     * and {@code /run/user}; {@code PrivateTmp=yes} gives the service an empty {@code /tmp} and {@code /var/tmp}.
     */
    private static final Map<Path, String> HIDDEN_FROM_UNIT = Map.of(Path.of("/home"), "ProtectHome=yes",
            Path.of("/root"), "ProtectHome=yes", Path.of("/run/user"), "ProtectHome=yes", Path.of("/tmp"),
            "PrivateTmp=yes", Path.of("/var/tmp"), "PrivateTmp=yes");

    /**
     * One party.
     *
     * @param id         the party id, e.g. {@code 10000}
     * @param address    where its broker runs (DNS name or IP)
     * @param port       its plain broker port
     * @param sslPort    its TLS broker port, which the proxy routes to
     * @param installDir where its host keeps the party folder's files ({@code install_dir}); {@code null}: the
     *                   bundle's default
     * @param viaAgent   {@code reach: agent}: the party opens no inbound port, its agent dials the proxy
     */
    public record Party(String id, String address, int port, int sslPort, Path installDir, boolean viaAgent) {
        /** A party the proxy reaches directly. */
        public Party(String id, String address, int port, int sslPort, Path installDir) {
            this(id, address, port, sslPort, installDir, false);
        }

        /** A party installed where the bundle's default says. */
        public Party(String id, String address, int port, int sslPort) {
            this(id, address, port, sslPort, null);
        }
    }

    /**
     * The federation.
     *
     * @param domain          the parties' domain: party {@code 10000} is {@code 10000.fate.org}
     * @param proxy           the proxy as parties dial it
     * @param listen          where the proxy listens
     * @param parties         the parties, in order
     * @param proxyInstallDir where the proxy's host keeps its files ({@code proxy.install_dir}); {@code null}: the
     *                        bundle's default
     * @param agentPort       the proxy's port for party agents ({@code proxy.agent_port})
     */
    public record Description(String domain, Endpoint proxy, Endpoint listen, List<Party> parties,
                              Path proxyInstallDir, int agentPort) {
        /** Copies the list. */
        public Description {
            parties = List.copyOf(parties);
        }

        /** A federation whose agents (if any) dial the default agent port. */
        public Description(String domain, Endpoint proxy, Endpoint listen, List<Party> parties,
                           Path proxyInstallDir) {
            this(domain, proxy, listen, parties, proxyInstallDir, FederationFile.DEFAULT_AGENT_PORT);
        }

        /** A federation whose proxy is installed where the bundle's default says. */
        public Description(String domain, Endpoint proxy, Endpoint listen, List<Party> parties) {
            this(domain, proxy, listen, parties, null);
        }

        /** Whether some party is reached through its agent (then the proxy takes agents). */
        public boolean hasAgents() {
            return parties.stream().anyMatch(Party::viaAgent);
        }
    }

    /** Validity of the party certificates unless {@link #days} says otherwise. */
    public static final int DEFAULT_DAYS = 397;
    /** The {@link #rekey} word for every party. */
    public static final String ALL = "all";

    private final CertificateAuthority ca;
    private final Description description;
    private final Path installDir;
    private final int days;
    private final Set<String> rekey;
    private final String pulsarVersion;
    private final Path proxyAt;

    private FederationBundle(CertificateAuthority ca, Description description, Path installDir, int days,
                             Set<String> rekey, String pulsarVersion) {
        this.ca = Objects.requireNonNull(ca, "ca");
        this.description = Objects.requireNonNull(description, "description");
        this.installDir = installDir;
        if (days < 1 || days > 3650) {
            throw new IllegalArgumentException("invalid --days " + days + ": 1..3650");
        }
        this.days = days;
        this.rekey = Set.copyOf(rekey);
        BrokerTlsConfig.readsBrokerClientFilePaths(pulsarVersion); // refuses an unknown version
        this.pulsarVersion = pulsarVersion;
        if (description.proxyInstallDir() != null) {
            this.proxyAt = requireVisibleToUnit("proxy." + INSTALL_DIR, description.proxyInstallDir(),
                    ": install the proxy's files elsewhere, e.g. " + DEFAULT_PROXY_INSTALL_DIR);
        } else if (installDir != null) {
            this.proxyAt = requireVisibleToUnit("--install-dir", installDir.toAbsolutePath().normalize(),
                    ": give the proxy its own proxy.install_dir in the description, or another --install-dir");
        } else {
            this.proxyAt = DEFAULT_PROXY_INSTALL_DIR;
        }
    }

    /** This bundle with party certificates valid {@code days} (1..3650; default {@value #DEFAULT_DAYS}). */
    public FederationBundle days(int days) {
        return new FederationBundle(ca, description, installDir, days, rekey, pulsarVersion);
    }

    /**
     * This bundle for brokers of Pulsar {@code version} (default {@value BrokerTlsConfig#DEFAULT_PULSAR_VERSION}):
     * it decides where the broker client's TLS files are named ({@link BrokerTlsConfig#lines(TlsFiles, boolean,
     * String)}).
     *
     * @throws IllegalArgumentException naming a version that is not {@code major.minor[.patch]} or is before 2.7
     */
    public FederationBundle pulsarVersion(String version) {
        return new FederationBundle(ca, description, installDir, days, rekey, version);
    }

    /**
     * This bundle issuing new keys for {@code parties} (ids, or {@value #ALL}) even where a party's folder already
     * holds a valid certificate of this CA; every other such party keeps its key and certificate on a re-run.
     *
     * @throws IllegalArgumentException naming an id the description does not list
     */
    public FederationBundle rekey(Collection<String> parties) {
        Set<String> ids = new java.util.HashSet<>();
        for (String id : parties) {
            if (id.equals(ALL)) {
                ids.add(ALL);
                continue;
            }
            String canonical = PartyIds.canonical(id);
            if (description.parties().stream().noneMatch(p -> p.id().equals(canonical))) {
                throw new IllegalArgumentException("--rekey " + HostNames.quote(id) + ": no such party in the "
                        + "description (parties: " + description.parties().stream().map(Party::id).toList() + ")");
            }
            ids.add(canonical);
        }
        return new FederationBundle(ca, description, installDir, days, ids, pulsarVersion);
    }

    /**
     * A bundle for {@code description} issued by {@code ca}.
     *
     * @param installDir where a host keeps its folder's files (the paths in the config lines) unless the description
     *                   gives its own {@code install_dir}; {@code null}: each party's written folder itself, and
     *                   {@link #DEFAULT_PROXY_INSTALL_DIR} for the proxy
     * @throws IllegalArgumentException if the proxy would be installed where its systemd unit cannot read
     */
    public static FederationBundle of(CertificateAuthority ca, Description description, Path installDir) {
        return new FederationBundle(ca, description, installDir, DEFAULT_DAYS, Set.of(),
                BrokerTlsConfig.DEFAULT_PULSAR_VERSION);
    }

    /** Reads a description file; errors name the file. */
    public static Description read(Path file) throws IOException {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses a description ({@link FederationFile}: unknown and duplicate keys, bad names and ports and duplicate
     * parties are refused there), then checks each {@code install_dir} with the bundle's rules.
     */
    public static Description parse(String yaml) {
        FederationFile f = FederationFile.parse(yaml);
        Path proxyInstallDir = installDir("proxy." + INSTALL_DIR, f.proxyInstallDir());
        if (proxyInstallDir != null) {
            requireVisibleToUnit("proxy." + INSTALL_DIR, proxyInstallDir, ": install the proxy's files elsewhere, "
                    + "e.g. " + DEFAULT_PROXY_INSTALL_DIR);
        }
        List<Party> parties = new ArrayList<>();
        for (int i = 0; i < f.parties().size(); i++) {
            FederationFile.Entry e = f.parties().get(i);
            parties.add(new Party(e.id(), e.address(), e.port(), e.sslPort(),
                    installDir("parties[" + i + "]." + INSTALL_DIR, e.installDir()), e.viaAgent()));
        }
        return new Description(f.domain(), f.proxy(), f.listen(), parties, proxyInstallDir, f.agentPort());
    }

    /** An {@code install_dir}: an absolute, normalized path without spaces or control characters; or null. */
    private static Path installDir(String where, String s) {
        if (s == null) {
            return null;
        }
        String why = !s.startsWith("/") ? "is not an absolute path"
                : s.chars().anyMatch(c -> c <= ' ' || c == 0x7f) ? "has a space or a control character"
                : !Path.of(s).normalize().toString().equals(s.length() > 1 && s.endsWith("/")
                        ? s.substring(0, s.length() - 1) : s) ? "is not normalized ('.', '..' or '//')"
                : null;
        if (why != null) {
            throw new IllegalArgumentException(where + ": " + HostNames.quote(s) + " " + why + ": give the folder "
                    + "on that host as an absolute path, e.g. /opt/fedlink");
        }
        return Path.of(s);
    }

    /** Returns {@code dir} unless the proxy's systemd unit's hardening hides it; {@code what} says what to do. */
    private static Path requireVisibleToUnit(String where, Path dir, String what) {
        for (Map.Entry<Path, String> hidden : HIDDEN_FROM_UNIT.entrySet()) {
            if (dir.startsWith(hidden.getKey())) {
                throw new IllegalArgumentException(where + ": " + HostNames.quote(dir.toString()) + " is hidden "
                        + "from the proxy's systemd unit (" + hidden.getValue() + ": " + hidden.getKey() + " is not "
                        + "readable there)" + what);
            }
        }
        return dir;
    }

    /** The federation a description defines, in its order: the proxy operator's view of every party's broker. */
    static Federation federation(Description d) {
        List<FederationFile.Entry> entries = d.parties().stream()
                .map(p -> new FederationFile.Entry(p.id(), p.address(), p.port(), p.sslPort(), null, p.viaAgent()))
                .toList();
        return new FederationFile(d.domain(), d.proxy(), d.listen(), null, entries, d.agentPort()).federation();
    }

    /**
     * Whether {@code partyDir} already holds the party's identity from this CA: a certificate this CA issued (its
     * signature verifies), naming exactly the party's canonical name, valid for at least another day, and the key it
     * was issued for. A damaged or foreign set is replaced, never trusted.
     */
    private boolean holdsValidIdentity(Path partyDir, Party p) {
        Path cert = partyDir.resolve("cert.pem");
        Path key = partyDir.resolve("key.pem");
        if (!Files.isRegularFile(cert, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                || !Files.isRegularFile(key, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try {
            java.security.cert.X509Certificate c = io.fedlink.api.PemCodec.readCertificate(Files.readString(cert));
            c.verify(ca.root().getPublicKey());
            c.checkValidity(java.util.Date.from(java.time.Instant.now().plus(java.time.Duration.ofDays(1))));
            String name = p.id() + "." + description.domain();
            if (!c.getSubjectX500Principal().getName().equals("CN=" + name)) {
                return false;
            }
            // the key must be the certificate's: a mismatch is refused by the TLS material builder
            io.fedlink.api.TlsMaterial.builder().identity(io.fedlink.pki.internal.Pem.privateKey(Files.readString(key), null), c);
            return true;
        } catch (IOException | java.security.GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    /**
     * FATE's side of a party: the parts of {@code conf/service_conf.yaml} that must agree with the broker fedlink
     * configured. FATE names the broker's cluster in tenant and namespace calls ({@code fate_on_spark.pulsar.cluster},
     * shipped as {@code standalone}); the bundle names each broker after its party, so the two must say the same.
     */
    private static String serviceConf(Party p, Path routeTable) {
        return String.join("\n",
                "# Party " + p.id() + "'s FATE service_conf.yaml, the parts fedlink decides, written by fedlink:",
                "# merge these keys into FATE's conf/service_conf.yaml (every other key stays as FATE ships it).",
                "default_engines:",
                "  federation: pulsar",
                "fate_on_spark:",
                "  pulsar:",
                "    host: " + quoted(p.address()),
                "    port: " + p.port(),
                "    mng_port: " + PULSAR_WEB_PORT,
                "    cluster: " + quoted(p.id()) + "     # the broker's clusterName",
                "    tenant: fl-tenant",
                "    topic_ttl: 5",
                "    route_table: " + quoted(routeTable.toString()),
                "    mode: replication",
                "");
    }

    private static String quoted(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** A party's route-table entry, keyed as FATE looks it up; {@code local: true} only in the party's own table. */
    private static String partyEntry(Party p, boolean local) {
        Object key = PulsarRouteTable.fateKey(p.id());
        return (key instanceof String ? "\"" + key + "\"" : key) + ":\n  host: \"" + p.address() + "\"\n  port: "
                + p.port() + "\n  sslPort: " + p.sslPort() + "\n  local: " + local + "\n";
    }

    @Override
    public WrittenBundle write(Path dir) throws IOException {
        for (Party p : description.parties()) {
            BrokerTlsConfig.lines(installed(dir, p), true, pulsarVersion); // refused before any file is written
        }
        List<Path> files = new ArrayList<>();
        BundleWriter proxy = new BundleWriter(dir.resolve("proxy"));
        StringBuilder sni = new StringBuilder("# Routes of the fedlink proxy for " + description.domain()
                + ", written by fedlink: Traffic Server's sni.yaml.\nsni:\n");
        for (PartyRoute r : federation(description).routeTable().routes()) {
            sni.append("  - fqdn: ").append(r.serverName()).append(r.viaAgent()
                    ? "\n    agent: '" + r.agentParty() + "'" // fedlink's extension: the party opens no inbound port
                    : "\n    tunnel_route: " + r.targetSpec()).append('\n');
        }
        proxy.plain("sni.yaml", sni.toString());
        proxy.plain("fedlink-proxy.service", systemdUnit(proxyAt));
        files.addAll(proxy.written());
        if (description.hasAgents()) { // the proxy's own certificate for the agent port: agents verify its name
            Path agentTls = dir.resolve("proxy").resolve("agent-tls");
            if (!Files.exists(agentTls.resolve("cert.pem"))) { // a re-run keeps the proxy's key
                String host = description.proxy().host();
                CertificateRequest r = description.proxy().isIpLiteral() ? CertificateRequest.server().ip(host)
                        : CertificateRequest.server(host);
                TlsFiles written = TlsFiles.write(ca.issue(r.days(days)).tlsMaterial(), agentTls);
                files.addAll(List.of(written.cert(), written.key(), written.ca()));
            }
        }
        for (Party p : description.parties()) {
            Path partyDir = dir.resolve("party-" + p.id());
            if (rekey.contains(ALL) || rekey.contains(p.id()) || !holdsValidIdentity(partyDir, p)) {
                TlsFiles written = TlsFiles.write(ca.issue(CertificateRequest.party(p.id(), description.domain())
                        .days(days)).tlsMaterial(), partyDir);
                files.addAll(List.of(written.cert(), written.key(), written.ca()));
            } // else a re-run: the party keeps its key and certificate, so adding a party rotates nobody else
            TlsFiles installed = installed(dir, p);
            Path at = installed.dir();
            BundleWriter w = new BundleWriter(partyDir);
            Map<String, String> tls = new LinkedHashMap<>(BrokerTlsConfig.lines(installed, true, pulsarVersion));
            tls.put("brokerServicePort", Integer.toString(p.port()));      // the ports the route tables and the
            tls.put("brokerServicePortTls", Integer.toString(p.sslPort())); // proxy's routes name
            // A lookup answers with the broker's advertised name; through the proxy it must be the SNI name the
            // proxy routes and the certificate carries (Pulsar's default is the host's own name).
            tls.put("advertisedAddress", p.id() + "." + description.domain());
            w.plain("standalone-tls.conf", "# Broker TLS and cluster name of party " + p.id() + ", for Pulsar "
                    + pulsarVersion + ", written by fedlink: append to conf/standalone.conf (clusterName = party id: "
                    + "no replicator name collision).\n"
                    + BrokerTlsConfig.text(BrokerTlsConfig.clusterLines(p.id())) + BrokerTlsConfig.text(tls));
            w.plain("pulsar_route_table.yaml", "# Party " + p.id() + "'s FATE route table, written by fedlink.\n"
                    + partyEntry(p, true) + "default:\n  proxy: \"" + description.proxy() + "\"\n  domain: \""
                    + description.domain() + "\"\n  brokerPort: " + PulsarRouteTable.DEFAULT_BROKER_PORT
                    + "\n  brokerSslPort: " + PulsarRouteTable.DEFAULT_BROKER_SSL_PORT + "\n");
            w.plain("service_conf.yaml", serviceConf(p, at.resolve("pulsar_route_table.yaml")));
            if (p.viaAgent()) {
                w.plain("fedlink-agent.service", agentUnit(p, installed));
            }
            files.addAll(w.written());
        }
        return new WrittenBundle(dir, files);
    }

    /** Where party {@code p}'s files live on its host: its install_dir, else --install-dir, else its folder. */
    private TlsFiles installed(Path dir, Party p) {
        Path at = p.installDir() != null ? p.installDir() : installDir != null ? installDir
                : dir.resolve("party-" + p.id()).toAbsolutePath();
        return new TlsFiles(at, at.resolve("ca.pem"), at.resolve("cert.pem"), at.resolve("key.pem"));
    }

    /** The JVM settings of the long-running proxy and agents: small and steady resident memory. */
    private static final String JAVA = "/usr/bin/java -XX:+UseSerialGC -Xms8m -Xmx256m -XX:+IgnoreUnrecognizedVMOptions"
            + " -XX:+UnlockExperimentalVMOptions -XX:TrimNativeHeapInterval=1000";

    /**
     * The agent's unit for a party reached through its agent: it dials the proxy's agent port with the party's
     * certificate and carries the tunnels to the party's broker; the party opens no inbound port.
     */
    private String agentUnit(Party p, TlsFiles at) {
        Endpoint agentPort = Endpoint.of(description.proxy().host(), description.agentPort());
        return String.join("\n",
                "# fedlink agent of party " + p.id() + " (" + description.domain() + "), written by fedlink: an example"
                        + " unit.",
                "# The party opens no inbound port: the agent dials the proxy at " + agentPort + " (allow that out,",
                "# and the proxy's port for the broker's own replication) and carries the proxy's tunnels to the broker.",
                "# Install the proxy jar at /opt/fedlink/fedlink-proxy.jar and this file as",
                "# /etc/systemd/system/fedlink-agent.service, then: systemctl enable --now fedlink-agent",
                "[Unit]",
                "Description=fedlink agent of party " + p.id() + " (" + description.domain() + ")",
                "After=network-online.target",
                "Wants=network-online.target",
                "",
                "[Service]",
                "Environment=MALLOC_ARENA_MAX=2",
                "ExecStart=" + JAVA + " -jar /opt/fedlink/fedlink-proxy.jar agent --cert " + at.cert() + " --key "
                        + at.key() + " --ca " + at.ca() + " --proxy " + agentPort + " --target "
                        + Endpoint.of(p.address(), p.sslPort()),
                "NoNewPrivileges=yes",
                "ProtectSystem=strict",
                "PrivateTmp=yes",
                "Restart=always",
                "RestartSec=2",
                "",
                "[Install]",
                "WantedBy=multi-user.target",
                "");
    }

    /** The proxy's unit; {@code at}, where sni.yaml is installed, is outside what its hardening hides. */
    private String systemdUnit(Path at) {
        Path routes = at.resolve("sni.yaml");
        return String.join("\n",
                "# fedlink SNI proxy for " + description.domain() + ", written by fedlink: an example unit.",
                "# Install the proxy jar (fedlink-proxy-cli/target/fedlink-proxy.jar) at /opt/fedlink/fedlink-proxy.jar,",
                "# the routes with: install -D -m 0644 sni.yaml " + routes + " (readable by the unit's dynamic user)",
                "# and this file as /etc/systemd/system/fedlink-proxy.service, then: systemctl enable --now "
                        + "fedlink-proxy",
                "# ProtectHome=yes and PrivateTmp=yes hide /home, /root, /run/user and /tmp from the service: its files",
                "# live under " + at + " (the proxy's install_dir in the federation file, or --install-dir).",
                "[Unit]",
                "Description=fedlink SNI proxy (" + description.domain() + ")",
                "After=network-online.target",
                "Wants=network-online.target",
                "",
                "[Service]",
                "Environment=MALLOC_ARENA_MAX=2",
                "ExecStart=" + JAVA + " -jar /opt/fedlink/fedlink-proxy.jar proxy --listen " + description.listen()
                        + " --routes " + routes + (description.hasAgents() ? " --agent-listen 0.0.0.0:"
                        + description.agentPort() + " --agent-cert " + at.resolve("agent-tls/cert.pem")
                        + " --agent-key " + at.resolve("agent-tls/key.pem") + " --agent-ca "
                        + at.resolve("agent-tls/ca.pem") + " --agent-domain " + description.domain() : ""),
                "DynamicUser=yes",
                "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                "NoNewPrivileges=yes",
                "ProtectSystem=strict",
                "ProtectHome=yes",
                "PrivateTmp=yes",
                "LimitNOFILE=65536",
                "Restart=on-failure",
                "",
                "[Install]",
                "WantedBy=multi-user.target",
                "");
    }
}
