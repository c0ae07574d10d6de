package io.fedlink.cli;

import io.fedlink.pulsar.ClusterMetadata;
import io.fedlink.pulsar.PulsarRouteTable;
import io.fedlink.sni.SniYaml;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code fedlink pulsar}: FATE's route table turned into Pulsar cluster metadata and proxy routes. */
@Command(name = "pulsar", mixinStandardHelpOptions = true,
        description = "FATE pulsar_route_table.yaml -> Pulsar cluster metadata and SNI proxy routes.",
        subcommands = {PulsarCommand.Cluster.class, PulsarCommand.Routes.class})
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

        @Override
        public Integer call() throws Exception {
            spec.commandLine().getOut().print(SniYaml.write(PulsarRouteTable.read(table).proxyRoutes()));
            return 0;
        }
    }
}
