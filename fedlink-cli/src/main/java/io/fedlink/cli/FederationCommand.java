package io.fedlink.cli;

import io.fedlink.cli.support.Errors;
import io.fedlink.cli.support.EtcdOptions;
import io.fedlink.cli.support.Secrets;
import io.fedlink.pki.CaFolder;
import io.fedlink.registry.EtcdConnection;
import io.fedlink.registry.FederationSnapshot;
import io.fedlink.registry.FederationRegistry;
import io.fedlink.federation.FederationSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code fedlink federation}: the federation registry in etcd. {@code init} stores the settings, {@code party
 * add|remove|list} manage parties, {@code status} shows what is stored, {@code export} prints FATE's route table or
 * the proxy's {@code sni.yaml} as views of it. Proxies fed from the registry follow every change.
 */
@Command(name = "federation", mixinStandardHelpOptions = true,
        description = "Keep the federation (settings and parties) in etcd; proxies follow it without restarts.",
        subcommands = {FederationCommand.Init.class, FederationCommand.Party.class, FederationCommand.Status.class,
            FederationCommand.Export.class})
final class FederationCommand {
    /** Held so its level sticks: gRPC logs through java.util.logging. */
    private static final Logger GRPC_LOG = Logger.getLogger("io.grpc");

    /**
     * Quiets the etcd client's own retry and shutdown chatter: the commands report an etcd failure themselves, in
     * one line (slf4j-simple reads the property when jetcd's loggers are created, on first connect).
     */
    static void quietEtcdClient() {
        GRPC_LOG.setLevel(Level.WARNING);
        System.setProperty("org.slf4j.simpleLogger.log.io.etcd", "error");
    }

    /** A subcommand that runs against the registry named by the etcd options, then closes the connection. */
    abstract static class RegistryCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        EtcdOptions etcd;

        /** The command's work; returns the exit code. */
        abstract int run(FederationRegistry registry, EtcdConnection connection, PrintWriter out) throws Exception;

        /** Checks option values before connecting; none by default. */
        void check() {
            // nothing to check
        }

        @Override
        public Integer call() throws Exception {
            check();
            quietEtcdClient();
            try (EtcdConnection c = etcd.connect()) {
                return run(new FederationRegistry(c, etcd.keys()), c, spec.commandLine().getOut());
            }
        }
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = "Create the federation: its domain, the proxy address parties dial, default broker ports.")
    static final class Init extends RegistryCommand {
        @Option(names = "--domain", required = true, description = "party names are <party>.<domain>, e.g. fate.org")
        String domain;
        @Option(names = "--proxy", required = true, description = "the proxy as parties dial it, host:port")
        String proxy;
        @Option(names = "--broker-port", defaultValue = "6650", description = "default plain broker port "
                + "(default: ${DEFAULT-VALUE})")
        int brokerPort;
        @Option(names = "--broker-tls-port", defaultValue = "6651", description = "default TLS broker port "
                + "(default: ${DEFAULT-VALUE})")
        int brokerTlsPort;
        @Option(names = "--replace", description = "change the settings of an existing federation")
        boolean replace;
        private FederationSettings settings;

        @Override
        void check() {
            settings = FederationSettings.of(domain, proxy, brokerPort, brokerTlsPort);
        }

        @Override
        int run(FederationRegistry r, EtcdConnection c, PrintWriter out) throws Exception {
            boolean written = r.init(settings, replace);
            out.println("federation " + r.keys().federation() + " at " + r.keys().prefix() + ": " + settings
                    + (written ? "" : " (unchanged)"));
            return 0;
        }
    }

    @Command(name = "party", mixinStandardHelpOptions = true, description = "Add, remove or list parties.",
            subcommands = {Party.Add.class, Party.Remove.class, Party.ListParties.class})
    static final class Party {
        @Command(name = "add", mixinStandardHelpOptions = true,
                description = "Add a party (its route appears on every proxy following the federation).")
        static final class Add extends RegistryCommand {
            @Option(names = "--party", required = true, description = "party id, e.g. 9999")
            String party;
            @Option(names = "--host", required = true, description = "the party's broker host (DNS name or IP)")
            String host;
            @Option(names = "--port", description = "plain broker port (default: the federation's)")
            int port;
            @Option(names = "--tls-port", description = "TLS broker port the proxy routes to (default: the "
                    + "federation's)")
            int tlsPort;
            @Option(names = "--allow", paramLabel = "CIDR", description = "client network allowed to use the "
                    + "route (repeatable; default: every client)")
            List<String> allow = new ArrayList<>();
            @Option(names = "--egress", paramLabel = "CIDR", description = "network the party's own connections "
                    + "come from (repeatable); once every party has one, every route admits only these sources, so "
                    + "removing a party also cuts its connections to the others")
            List<String> egress = new ArrayList<>();
            @Option(names = "--reach", defaultValue = "direct", paramLabel = "direct|agent", description = "how the"
                    + " proxies reach the broker: direct (connect to --host) or agent (the party opens no inbound"
                    + " port; its 'fedlink agent' dials the proxies) (default: ${DEFAULT-VALUE})")
            String reach;
            @Option(names = "--replace", description = "change an existing party")
            boolean replace;

            @Override
            int run(FederationRegistry r, EtcdConnection c, PrintWriter out) throws Exception {
                if (!reach.equals("direct") && !reach.equals("agent")) {
                    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "invalid value for option"
                            + " '--reach': '" + reach + "' must be direct or agent");
                }
                io.fedlink.federation.Party p = r.putParty(party, host, port, tlsPort, allow, egress,
                        reach.equals("agent"), replace);
                out.println("party " + p + " in federation " + r.keys().federation());
                return 0;
            }
        }

        @Command(name = "remove", mixinStandardHelpOptions = true,
                description = "Remove a party (every proxy refuses its name from then on).")
        static final class Remove extends RegistryCommand {
            @Option(names = "--party", required = true, description = "party id")
            String party;
            @Option(names = "--ca-dir", paramLabel = "DIR", description = "the federation's CA folder: also revoke "
                    + "every certificate of the party there and write its CRL, as 'pki party revoke' does")
            Path caDir;
            @Option(names = "--ca-password-file", paramLabel = "FILE", description = "file holding the CA key's "
                    + "password, if encrypted")
            Path caPasswordFile;

            @Override
            int run(FederationRegistry r, EtcdConnection c, PrintWriter out) throws Exception {
                // The registry first: every proxy following it closes the party's tunnels and refuses its name
                // within seconds. Then the CA, so its certificates stop renewing and appear in the CRL.
                r.removeParty(party);
                out.println("removed party " + party + " from federation " + r.keys().federation());
                if (caDir != null) {
                    int n;
                    try {
                        n = CaFolder.of(caDir, Secrets.read(caPasswordFile)).revokeParty(party);
                    } catch (IOException | RuntimeException e) {
                        throw new IllegalStateException("party " + party + " is out of the registry, but revoking "
                                + "its certificates at " + caDir + " failed (" + (Errors.message(e) != null ? Errors.message(e) : e.toString())
                                + "): finish with "
                                + "'fedlink pki party revoke --ca-dir " + caDir + " " + party + "'", e);
                    }
                    out.println("revoked " + n + " certificate(s) of party " + party + " at " + caDir + "; publish "
                            + caDir.resolve("crl.pem") + " to every relying party");
                }
                return 0;
            }
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "List the parties as a table.")
        static final class ListParties extends RegistryCommand {
            @Override
            int run(FederationRegistry r, EtcdConnection c, PrintWriter out) throws Exception {
                FederationSnapshot f = r.read();
                out.printf("%-16s %-32s %-6s %-8s %-40s %-20s %-20s %s%n", "PARTY", "HOST", "PORT", "TLS-PORT",
                        "SERVER-NAME", "ALLOW", "EGRESS", "REACH");
                for (io.fedlink.federation.Party p : f.parties().values()) {
                    out.printf("%-16s %-32s %-6d %-8d %-40s %-20s %-20s %s%n", p.id(), p.host(), p.port(),
                            p.sslPort(), f.settings() == null ? "-" : p.id() + "." + f.settings().domain(),
                            p.allow().isEmpty() ? "any" : joined(p.allow()),
                            p.egress().isEmpty() ? "-" : joined(p.egress()), p.viaAgent() ? "agent" : "direct");
                }
                printSkipped(out, f);
                return 0;
            }
        }
    }

    static String joined(List<?> values) {
        return String.join(",", values.stream().map(Object::toString).toList());
    }

    static void printSkipped(PrintWriter out, FederationSnapshot f) {
        for (Map.Entry<String, String> e : f.skipped().entrySet()) {
            out.println("invalid value at " + e.getKey() + " (proxies skip it): " + e.getValue());
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Show the federation's settings, parties and etcd revision.")
    static final class Status extends RegistryCommand {
        @Override
        int run(FederationRegistry r, EtcdConnection c, PrintWriter out) throws Exception {
            FederationSnapshot f = r.read();
            out.println("federation " + r.keys().federation() + " at " + r.keys().prefix() + " on etcd "
                    + c.endpoints());
            out.println("revision   " + f.revision());
            out.println("settings   " + (f.settings() == null ? "none: run 'fedlink federation init'" : f.settings()));
            List<String> ids = f.parties().values().stream().map(io.fedlink.federation.Party::id).toList();
            out.println("parties    " + f.parties().size() + (ids.isEmpty() ? "" : " (" + String.join(", ", ids) + ")"));
            List<String> without = f.parties().values().stream().filter(p -> p.egress().isEmpty())
                    .map(io.fedlink.federation.Party::id).toList();
            out.println("egress     " + (f.parties().isEmpty() ? "-" : without.isEmpty()
                    ? "enforced: every route admits only the parties' egress networks"
                    : "not enforced (no --egress: " + String.join(", ", without.size() > 10 ? without.subList(0, 10)
                    : without) + (without.size() > 10 ? ", ..." : "") + ")"));
            out.println("invalid    " + f.skipped().size());
            printSkipped(out, f);
            return f.initialised() ? 0 : 1;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = "Print the federation as FATE's pulsar_route_table.yaml (fate) or the proxy's sni.yaml "
                    + "(sni).")
    static final class Export extends RegistryCommand {
        @Option(names = "--format", defaultValue = "fate", description = "fate or sni (default: ${DEFAULT-VALUE})")
        String format;

        @Override
        void check() {
            if (!format.equals("fate") && !format.equals("sni")) {
                throw new IllegalArgumentException("unknown --format '" + format + "': use fate or sni");
            }
        }

        @Override
        int run(FederationRegistry r, EtcdConnection c, PrintWriter out) throws Exception {
            FederationSnapshot f = r.read();
            if (format.equals("fate")) {
                out.print(f.fateYaml());
                out.flush();
                return 0;
            }
            out.println("sni:");
            for (var route : f.routeTable().routes()) {
                out.println("  - fqdn: " + route.serverName());
                out.println("    tunnel_route: " + route.targetSpec());
                if (!route.allowedClients().isEmpty()) {
                    out.println("    ip_allow: " + joined(route.allowedClients()));
                }
            }
            return 0;
        }
    }
}
