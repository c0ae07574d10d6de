package io.fedlink.cli;

import io.fedlink.api.FileSet;
import io.fedlink.bundle.Bundle;
import io.fedlink.bundle.BundleCa;
import io.fedlink.bundle.ConsulBundle;
import io.fedlink.bundle.EtcdBundle;
import io.fedlink.bundle.FederationBundle;
import io.fedlink.bundle.FlinkBundle;
import io.fedlink.bundle.Passwords;
import io.fedlink.bundle.WrittenBundle;
import io.fedlink.pki.CaFolder;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.KeyType;
import io.fedlink.pulsar.BrokerTlsConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code fedlink bundle}: everything one system of the seeds needs, written at once (files plus config lines).
 * A thin shell over fedlink-bundle: embedders get the same files from the library.
 */
@Command(name = "bundle", mixinStandardHelpOptions = true,
        description = "Write the certificates, key stores and config lines one system needs, in one folder.",
        subcommands = {BundleCommand.Flink.class, BundleCommand.Consul.class, BundleCommand.Etcd.class,
                BundleCommand.Federation.class})
final class BundleCommand {

    /** The CA a bundle issues from: --ca-dir, or a dedicated one created in <out>/ca. */
    static final class CaOptions {
        @Option(names = "--ca-dir", description = "CA folder to issue from (default: <out>/ca, created if missing)")
        Path dir;

        @Option(names = "--ca-password-file", description = "file holding the CA key's password, if encrypted")
        Path passwordFile;

        /**
         * Writes a bundle issued by the CA; a CA created here is saved only once the bundle is written. Returns the
         * bundle's files, then the new CA's.
         */
        WrittenBundle write(Path out, String name, KeyType keyType, Function<CertificateAuthority, Bundle> bundle,
                String... permitDns) throws IOException {
            return write(out, name, keyType, (authority, saveCa) -> {
                WrittenBundle written = bundle.apply(authority).write(out);
                saveCa.run();
                return written;
            }, permitDns);
        }

        /**
         * Writes what {@code writer} makes with the CA, handing it the step that saves the CA (a new one, or the
         * index of a loaded one) to run once its files are ready. Returns the bundle's files, then the new CA's.
         */
        WrittenBundle write(Path out, String name, KeyType keyType, Writer writer, String... permitDns)
                throws IOException {
            char[] pw = passwordFile == null ? null : Passwords.read(passwordFile);
            BundleCa ca = BundleCa.open(dir != null ? dir : out.resolve("ca"), name, keyType, pw, permitDns);
            WrittenBundle written = writer.write(ca.authority(), () -> ca.saveIfNew(pw));
            if (!ca.isNew()) {
                return written;
            }
            List<Path> files = new ArrayList<>(written.files());
            files.add(ca.dir().resolve(CaFolder.CERT_FILE));
            files.add(ca.dir().resolve(CaFolder.KEY_FILE));
            return new WrittenBundle(written.dir(), files);
        }
    }

    /** Writes a bundle with {@code authority}, running {@code saveCa} before its files are final. */
    @FunctionalInterface
    interface Writer {
        WrittenBundle write(CertificateAuthority authority, FileSet.Step saveCa) throws IOException;
    }

    static void printSaved(PrintWriter out, WrittenBundle b) {
        for (Path f : b.files()) {
            out.println("==> Saved " + f);
        }
    }

    @Command(name = "flink", mixinStandardHelpOptions = true,
            description = {"Flink SSL: internal key store + trust store (one shared self-signed certificate), REST "
                    + "key store + trust store and a REST client certificate from the CA, and flink-ssl.yaml with "
                    + "the security.ssl.* lines to append to conf/config.yaml.",
                    "Passwords are generated unless given in files; nothing secret is printed.",
                    "The REST CA must be one only this Flink cluster uses (every certificate it issues is a REST "
                            + "client): --ca-dir takes a CA made by 'bundle flink' or an empty folder, never the "
                            + "federation's CA."})
    static final class Flink implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        CaOptions ca;
        @Option(names = "--out", required = true, description = "folder to write (created with mode 0700)")
        Path out;
        @Option(names = "--rest-name", description = "DNS name or IP clients dial for REST (repeatable; default: "
                + "localhost and 127.0.0.1)")
        List<String> restNames = new ArrayList<>();
        @Option(names = "--no-internal", description = "write no internal stores")
        boolean noInternal;
        @Option(names = "--no-rest", description = "write no REST stores")
        boolean noRest;
        @Option(names = "--internal-password-file", description = "file holding the internal stores' password "
                + "(mode 0600; default: generated)")
        Path internalPasswordFile;
        @Option(names = "--rest-password-file", description = "file holding the REST stores' password (mode 0600; "
                + "default: generated)")
        Path restPasswordFile;
        @Option(names = "--install-dir", description = "where the files will live on the Flink hosts, for the "
                + "paths in flink-ssl.yaml (default: --out)")
        Path installDir;
        @Option(names = "--key-type", defaultValue = "rsa-2048", converter = PkiCommand.KeyTypes.class,
                description = "rsa-2048, rsa-3072 or rsa-4096: the RFC 7525 suites Flink is given are RSA ones "
                        + "(default: ${DEFAULT-VALUE})")
        KeyType keyType;
        @Option(names = "--days", defaultValue = "397", description = "validity (default: ${DEFAULT-VALUE})")
        int days;

        @Override
        public Integer call() throws Exception {
            FlinkBundle.requireRsa(keyType); // before any CA is created
            Path caDir = ca.dir != null ? ca.dir : out.resolve("ca");
            if (!noRest) {
                FlinkBundle.requireDedicatedRestCa(caDir); // a federation's CA would make every party a REST client
            }
            char[] internalPassword = internalPasswordFile == null ? null : Passwords.read(internalPasswordFile);
            char[] restPassword = restPasswordFile == null ? null : Passwords.read(restPasswordFile);
            // all or nothing: the files are placed only once the CA (new, or its index) and its mark are saved
            WrittenBundle written = ca.write(out, "Flink REST CA", keyType, (authority, saveCa) -> {
                FlinkBundle.Builder b = FlinkBundle.builder(authority).internal(!noInternal).rest(!noRest)
                        .keyType(keyType).days(days).installDir(installDir).internalPassword(internalPassword)
                        .restPassword(restPassword);
                if (!restNames.isEmpty()) {
                    b.restNames(restNames.toArray(String[]::new));
                }
                return b.build().write(out, () -> {
                    saveCa.run();
                    if (!noRest) {
                        FlinkBundle.markRestCa(caDir);
                    }
                });
            });
            PrintWriter o = spec.commandLine().getOut();
            printSaved(o, written);
            o.println("==> Append " + written.file(FlinkBundle.CONFIG_FILE).getFileName()
                    + " to conf/config.yaml on every Flink host (it holds the passwords: keep it 0600)");
            return 0;
        }
    }

    @Command(name = "consul", mixinStandardHelpOptions = true,
            description = {"What 'consul tls ca create' and 'consul tls cert create -server|-client|-cli -dc DC' write "
                    + "(same names, numbering and fields), plus each agent's TLS stanza (<name>.hcl) and the CLI's "
                    + "environment (<name>.env), one folder per agent (<out>/<name>/: its certificate, key, the CA "
                    + "certificate and its .hcl or .env).",
                    "The CA in --out is reused when present and its key stays there; numbers continue after the "
                    + "agent folders already there."})
    static final class Consul implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--out", required = true, description = "folder to write (created with mode 0700)")
        Path out;
        @Option(names = "--dc", defaultValue = "dc1", description = "datacenter (default: ${DEFAULT-VALUE})")
        String dc;
        @Option(names = "--domain", defaultValue = "consul", description = "domain (default: ${DEFAULT-VALUE})")
        String domain;
        @Option(names = "--servers", defaultValue = "1", description = "servers (default: ${DEFAULT-VALUE})")
        int servers;
        @Option(names = "--clients", defaultValue = "0", description = "clients (default: ${DEFAULT-VALUE})")
        int clients;
        @Option(names = "--clis", defaultValue = "0", description = "CLI certificates (default: ${DEFAULT-VALUE})")
        int clis;
        @Option(names = "--days", defaultValue = "365", description = "validity (default: ${DEFAULT-VALUE})")
        int days;
        @Option(names = "--ca-days", defaultValue = "1825", description = "CA validity (default: ${DEFAULT-VALUE})")
        int caDays;
        @Option(names = "--install-dir", description = "where each agent's folder contents will live on its host, "
                + "for the paths in its .hcl/.env (default: <out>/<name>)")
        Path installDir;
        @Option(names = "--consul-version", defaultValue = "1.12", description = "the agents' Consul version: "
                + "before 1.12 TLS is written as top-level keys instead of the tls {} stanza (default: "
                + "${DEFAULT-VALUE})")
        String consulVersion;

        @Override
        public Integer call() throws Exception {
            printSaved(spec.commandLine().getOut(), ConsulBundle.builder().datacenter(dc).domain(domain)
                    .servers(servers).clients(clients).clis(clis).days(days).caDays(caDays).installDir(installDir)
                    .consulVersion(consulVersion).build().write(out));
            return 0;
        }
    }

    @Command(name = "etcd", mixinStandardHelpOptions = true,
            description = {"etcd with mutual TLS: one certificate per member naming it, a client certificate for "
                    + "etcdctl, and each member's flags (<member>.flags: etcd $(cat etcd-0.flags) --data-dir ...) "
                    + "and etcdctl.flags.",
                    "Members are etcd-0..N-1; the i-th runs on the i-th --host (the last one for the rest). Members "
                    + "sharing a host get ports 2 apart: client 2379, peer 2380, the next member 2381, 2382, and "
                    + "so on (from --client-port and --peer-port).",
                    "A member listens on its host when that is an IP address; a host name needs --listen-address "
                    + "HOST=IP (etcd binds addresses, not names; 0.0.0.0 or :: listens on every interface). "
                    + "Advertised URLs keep the host."})
    static final class Etcd implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        CaOptions ca;
        @Option(names = "--out", required = true, description = "folder to write (created with mode 0700)")
        Path out;
        @Option(names = "--members", defaultValue = "3", description = "cluster size (default: ${DEFAULT-VALUE})")
        int members;
        @Option(names = "--host", description = "DNS name or IP of the next member (repeatable; default 127.0.0.1)")
        List<String> hosts = new ArrayList<>();
        @Option(names = "--listen-address", paramLabel = "HOST=IP", description = "the IP address the members "
                + "on HOST bind (repeatable; required for a host name; default: the host's IP)")
        Map<String, String> listen = new LinkedHashMap<>();
        @Option(names = "--client-port", defaultValue = "2379", description = "client port (default: ${DEFAULT-VALUE})")
        int clientPort;
        @Option(names = "--peer-port", defaultValue = "2380", description = "peer port (default: ${DEFAULT-VALUE})")
        int peerPort;
        @Option(names = "--days", defaultValue = "397", description = "validity (default: ${DEFAULT-VALUE})")
        int days;
        @Option(names = "--install-dir", description = "where the files will live on the members, for the paths in "
                + "the flags (default: --out)")
        Path installDir;

        @Override
        public Integer call() throws Exception {
            printSaved(spec.commandLine().getOut(), ca.write(out, "etcd CA", KeyType.EC_P256,
                    authority -> EtcdBundle.builder(authority).days(days).installDir(installDir)
                            .members(members, hosts, listen, clientPort, peerPort).build()));
            return 0;
        }
    }

    @Command(name = "federation", mixinStandardHelpOptions = true,
            description = {"A whole FATE star network from one description (YAML: domain, proxy host and port, "
                    + "each party's id, address and ports): proxy/ (sni.yaml, a systemd unit example) and one "
                    + "party-<id>/ folder per broker host (cert.pem, key.pem, ca.pem, standalone-tls.conf, "
                    + "pulsar_route_table.yaml).",
                    "The CA (default <out>/ca, created constrained to the domain) issues every party certificate."})
    static final class Federation implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        CaOptions ca;
        @picocli.CommandLine.Parameters(index = "0", paramLabel = "FILE", description = "the federation description")
        Path file;
        @Option(names = "--out", required = true, description = "folder to write (one sub-folder per host)")
        Path out;
        @Option(names = "--install-dir", description = "where a host keeps its folder's files, for the paths in "
                + "the config lines, unless the description gives the host's own install_dir (default: each party's "
                + "written folder; /etc/fedlink/proxy for the proxy, whose systemd unit cannot read /home, /root, "
                + "/tmp)")
        Path installDir;
        @Option(names = "--pulsar-version", defaultValue = BrokerTlsConfig.DEFAULT_PULSAR_VERSION,
                description = "the brokers' Pulsar version, major.minor[.patch], 2.7 or later: before 2.11 the "
                        + "broker client's TLS files go in brokerClientAuthenticationParameters (default: "
                        + "${DEFAULT-VALUE})")
        String pulsarVersion;
        @Option(names = "--days", defaultValue = "397", description = "validity of new party certificates (default: "
                + "${DEFAULT-VALUE})")
        int days;
        @Option(names = "--rekey", paramLabel = "PARTY|all", description = "issue a new key and certificate for this "
                + "party (repeatable), or 'all'; on a re-run every other party keeps its own")
        List<String> rekey = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            FederationBundle.Description d = FederationBundle.read(file);
            // a bad --days or --rekey is refused before anything is written (a new CA is saved only after)
            printSaved(spec.commandLine().getOut(), ca.write(out, d.domain() + " federation CA", KeyType.EC_P256,
                    authority -> FederationBundle.of(authority, d, installDir).days(days).rekey(rekey)
                            .pulsarVersion(pulsarVersion), d.domain()));
            return 0;
        }
    }
}
