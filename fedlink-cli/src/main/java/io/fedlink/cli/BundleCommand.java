package io.fedlink.cli;

import io.fedlink.bundle.BundleCa;
import io.fedlink.bundle.ConsulBundle;
import io.fedlink.bundle.FlinkBundle;
import io.fedlink.bundle.Passwords;
import io.fedlink.bundle.WrittenBundle;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.KeyType;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code fedlink bundle}: everything one system of the seeds needs, written at once (files plus config lines).
 * A thin shell over fedlink-bundle: embedders get the same files from the library.
 */
@Command(name = "bundle", mixinStandardHelpOptions = true,
        description = "Write the certificates, key stores and config lines one system needs, in one folder.",
        subcommands = {BundleCommand.Flink.class, BundleCommand.Consul.class})
final class BundleCommand {

    /** The CA a bundle issues from: --ca-dir, or a dedicated one created in <out>/ca. */
    static final class CaOptions {
        @Option(names = "--ca-dir", description = "CA folder to issue from (default: <out>/ca, created if missing)")
        Path dir;

        @Option(names = "--ca-password-file", description = "file holding the CA key's password, if encrypted")
        Path passwordFile;

        CertificateAuthority loadOrCreate(Path out, String name, KeyType keyType) throws IOException {
            char[] pw = passwordFile == null ? null : Passwords.read(passwordFile);
            return BundleCa.loadOrCreate(dir != null ? dir : out.resolve("ca"), name, keyType, pw);
        }
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
                    "Passwords are generated unless given in files; nothing secret is printed."})
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
            FlinkBundle.Builder b = FlinkBundle.builder(ca.loadOrCreate(out, "Flink REST CA", keyType))
                    .internal(!noInternal).rest(!noRest).keyType(keyType).days(days).installDir(installDir);
            if (!restNames.isEmpty()) {
                b.restNames(restNames.toArray(String[]::new));
            }
            if (internalPasswordFile != null) {
                b.internalPassword(Passwords.read(internalPasswordFile));
            }
            if (restPasswordFile != null) {
                b.restPassword(Passwords.read(restPasswordFile));
            }
            WrittenBundle written = b.build().write(out);
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
                    + "environment (<name>.env).",
                    "The CA in --out is reused when present; numbers continue after the files already there."})
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
        @Option(names = "--install-dir", description = "where the files will live on the agents, for the paths in "
                + "the stanzas (default: --out)")
        Path installDir;

        @Override
        public Integer call() throws Exception {
            printSaved(spec.commandLine().getOut(), ConsulBundle.builder().datacenter(dc).domain(domain)
                    .servers(servers).clients(clients).clis(clis).days(days).caDays(caDays).installDir(installDir)
                    .build().write(out));
            return 0;
        }
    }
}
