package io.fedlink.cli;

import io.fedlink.cli.proxy.AgentCommand;
import io.fedlink.cli.proxy.ProxyCommand;
import io.fedlink.cli.support.Commands;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code fedlink} command of {@code fedlink.jar}: a thin shell over the fedlink modules. Each subcommand lives in
 * its own class and is registered in {@link #SUBCOMMANDS}; {@code proxy} and {@code agent} come from
 * fedlink-proxy-cli, which is also packaged alone as {@code fedlink-proxy.jar}.
 */
@Command(name = "fedlink",
        mixinStandardHelpOptions = true,
        versionProvider = Commands.Version.class,
        description = "Build and run a secure star network of federated-learning parties: "
                + "an SNI tunnel proxy, an in-memory CA and Pulsar wiring, without openssl, keytool or Traffic Server.",
        subcommandsRepeatable = false)
public final class Main implements Runnable {
    /** Subcommand classes, in the order {@code --help} lists them. */
    static final List<Class<?>> SUBCOMMANDS = List.of(DemoCommand.class, PkiCommand.class, ProxyCommand.class,
            AgentCommand.class, FederationCommand.class,
            PulsarCommand.class, BundleCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Prints usage when called without a subcommand. */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Builds the command line with every subcommand registered. */
    public static CommandLine commandLine() {
        return Commands.commandLine(new Main(), SUBCOMMANDS);
    }

    /** Runs the command (only the subcommand it names is built: {@link Commands#needed}) and exits with its status. */
    public static void main(String[] args) {
        System.exit(Commands.execute(Commands.commandLine(new Main(), Commands.needed(SUBCOMMANDS, args)), args));
    }
}
