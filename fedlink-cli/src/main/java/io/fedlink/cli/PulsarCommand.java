package io.fedlink.cli;

import io.fedlink.cli.support.Durations;
import io.fedlink.cli.support.EtcdOptions;
import io.fedlink.federation.ClusterMetadata;
import io.fedlink.federation.PulsarRouteTable;
import io.fedlink.registry.EtcdConnection;
import io.fedlink.pulsar.PulsarSync;
import io.fedlink.sni.SniYaml;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminBuilder;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.client.api.PulsarClientException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code fedlink pulsar}: FATE's route table turned into Pulsar cluster metadata and proxy routes, and {@code sync},
 * which keeps a party's broker in step with the federation registry.
 */
@Command(name = "pulsar", mixinStandardHelpOptions = true,
        description = "FATE pulsar_route_table.yaml -> Pulsar cluster metadata and SNI proxy routes; keep a party's "
                + "broker in step with the federation registry.",
        subcommands = {PulsarCommand.Cluster.class, PulsarCommand.Routes.class, PulsarCommand.Sync.class})
final class PulsarCommand {

    @Command(name = "cluster", mixinStandardHelpOptions = true,
            description = "Print the cluster metadata (JSON) to register for a party, as FATE builds it.")
    static final class Cluster implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--route-table", required = true, description = "FATE's pulsar_route_table.yaml")
        Path table;
        @Option(names = "--party", required = true, description = "the party to describe, e.g. 9999")
        String party;

        @Override
        public Integer call() throws Exception {
            spec.commandLine().getOut().println(ClusterMetadata.forParty(PulsarRouteTable.read(table), party).toJson());
            return 0;
        }
    }

    @Command(name = "routes", mixinStandardHelpOptions = true,
            description = "Print the SNI proxy routes (sni.yaml) derived from the same route table.")
    static final class Routes implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--route-table", required = true, description = "FATE's pulsar_route_table.yaml")
        Path table;

        @Option(names = "--domain", paramLabel = "DOMAIN", description = "the federation's domain, for a table "
                + "without default.domain (FATE's shipped file): server names are <party>.<domain>")
        String domain;

        @Override
        public Integer call() throws Exception {
            PulsarRouteTable t = PulsarRouteTable.read(table);
            if (domain != null) {
                t = t.withDomain(domain);
            }
            var routes = t.proxyRoutes(); // refused before anything is printed
            spec.commandLine().getOut().print(SniYaml.write(routes));
            spec.commandLine().getErr().println("fedlink: " + routes.size() + " route" + (routes.size() == 1 ? ""
                    : "s") + " from parties " + String.join(", ", t.parties().keySet())
                    + (t.localParty() == null ? "" : " (local party " + t.localParty() + ")") + " of " + table);
            return 0;
        }
    }

    @Command(name = "sync", mixinStandardHelpOptions = true,
            description = {"Keep the local Pulsar broker's clusters in step with the federation in etcd: a party "
                    + "added there gets a cluster (FATE's metadata, through the proxy), a change updates it, a removed "
                    + "party stops being replicated to and its cluster is deleted. Runs until stopped.",
                "The broker must be named after its party (clusterName=<party id>)."})
    static final class Sync implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        EtcdOptions etcd;
        @Option(names = "--party", required = true, description = "the local party id (the broker's clusterName)")
        String party;
        @Option(names = "--admin-url", required = true, paramLabel = "URL",
                description = "the local broker's admin URL, http://host:8080 or https://host:8443")
        String adminUrl;
        @Option(names = "--admin-trust", paramLabel = "FILE", description = "CA certificates (PEM) for an https "
                + "admin URL")
        Path adminTrust;
        @Option(names = "--admin-cert", paramLabel = "FILE", description = "client certificate (PEM) for an admin "
                + "that requires one")
        Path adminCert;
        @Option(names = "--admin-key", paramLabel = "FILE", description = "its private key (PEM, PKCS#8)")
        Path adminKey;
        @Option(names = "--admin-timeout", defaultValue = "10s", converter = Durations.class,
                description = "deadline of each broker admin call (default: ${DEFAULT-VALUE})")
        Duration adminTimeout;
        @Option(names = "--proxy", paramLabel = "HOST:PORT",
                description = "the proxy this party's broker dials, instead of the federation's (a federation served"
                        + " by several proxies: each party names the one it reaches)")
        String proxy;
        @Option(names = "--once", description = "one pass, then exit (1 when the broker could not be brought in step)")
        boolean once;

        @Override
        public Integer call() throws Exception {
            checkAdminOptions();
            FederationCommand.quietEtcdClient();
            try (PulsarAdmin admin = admin()) {
                if (once) {
                    try (EtcdConnection c = etcd.connect()) {
                        List<String> done = PulsarSync.once(c, etcd.keys(), party, proxy, admin);
                        spec.commandLine().getOut().println("broker " + adminUrl + " in step with federation "
                                + etcd.federation() + (done.isEmpty() ? ": nothing to change" : ": " + String.join(" ",
                                done)));
                        return 0;
                    } catch (PulsarAdminException e) {
                        throw new IllegalStateException("broker admin " + adminUrl + ": " + PulsarSync.reason(e)
                                + ": check --admin-url and that the broker runs", e);
                    }
                }
                EtcdConnection c = etcd.connect();
                PulsarSync.Builder b;
                try {
                    b = PulsarSync.builder(c, etcd.keys(), party, admin).proxy(proxy).ownsConnection(true);
                } catch (RuntimeException e) { // a bad --proxy: nothing may stay open
                    c.close();
                    throw e;
                }
                PulsarSync sync = b.start();
                CountDownLatch stopped = new CountDownLatch(1);
                Thread hook = new Thread(() -> {
                    sync.close();
                    stopped.countDown();
                }, "fedlink-pulsar-sync-stop");
                Runtime.getRuntime().addShutdownHook(hook);
                spec.commandLine().getOut().println("following federation " + etcd.federation() + " for party " + party
                        + " at " + adminUrl + "; stop with Ctrl-C");
                spec.commandLine().getOut().flush();
                stopped.await();
                return 0;
            }
        }

        private void checkAdminOptions() {
            URI uri;
            try {
                uri = new URI(adminUrl);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("invalid --admin-url '" + adminUrl + "': " + e.getReason());
            }
            boolean https = "https".equals(uri.getScheme());
            if (!https && !"http".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new IllegalArgumentException("invalid --admin-url '" + adminUrl + "': use http://host:port or "
                        + "https://host:port");
            }
            if (https != (adminTrust != null)) {
                throw new IllegalArgumentException(https ? "an https --admin-url needs --admin-trust FILE"
                        : "--admin-trust is for an https --admin-url, not '" + adminUrl + "'");
            }
            if ((adminCert == null) != (adminKey == null) || adminCert != null && !https) {
                throw new IllegalArgumentException("--admin-cert and --admin-key go together, with an https "
                        + "--admin-url");
            }
            for (Path f : new Path[] {adminTrust, adminCert, adminKey}) {
                if (f != null && !Files.isReadable(f)) {
                    throw new IllegalArgumentException("'" + f + "' is not a readable file");
                }
            }
        }

        private PulsarAdmin admin() throws PulsarClientException {
            int ms = (int) adminTimeout.toMillis();
            PulsarAdminBuilder b = PulsarAdmin.builder().serviceHttpUrl(adminUrl)
                    .connectionTimeout(ms, TimeUnit.MILLISECONDS).readTimeout(ms, TimeUnit.MILLISECONDS)
                    .requestTimeout(ms, TimeUnit.MILLISECONDS);
            if (adminTrust != null) {
                b.tlsTrustCertsFilePath(adminTrust.toString()).allowTlsInsecureConnection(false)
                        .enableTlsHostnameVerification(true);
            }
            if (adminCert != null) {
                b.tlsCertificateFilePath(adminCert.toString()).tlsKeyFilePath(adminKey.toString());
            }
            return b.build();
        }
    }
}
