package io.fedlink.cli.proxy;

import io.fedlink.cli.support.Commands;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code fedlink} command of {@code fedlink-proxy.jar}, the proxy host's jar: {@code proxy} (with
 * {@code proxy close-tunnels}) and {@code agent} only, built from a module whose dependencies hold neither the Pulsar
 * client nor the bundle. {@code fedlink.jar} registers the same two commands beside all the others.
 */
@Command(name = "fedlink",
        mixinStandardHelpOptions = true,
        versionProvider = Commands.Version.class,
        description = "The fedlink proxy host's commands: the SNI tunnel proxy and the party agent. The other"
                + " commands (pki, federation, pulsar, bundle, demo) run from fedlink.jar.")
public final class ProxyMain implements Runnable {
    /** The commands of the proxy jar, in the order {@code --help} lists them. */
    public static final List<Class<?>> SUBCOMMANDS = List.of(ProxyCommand.class, AgentCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Prints usage when called without a subcommand. */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The proxy jar's command line for {@code args}: the subcommand they name alone (see {@link Commands#needed}). */
    public static CommandLine commandLine(String[] args) {
        return Commands.commandLine(new ProxyMain(), Commands.needed(SUBCOMMANDS, args));
    }

    /**
     * Runs {@code args} and returns the exit status. A first word that names no command of this jar (a command of
     * {@code fedlink.jar}, or a typo) is refused with status 2 in one line that says where the command is, before
     * anything else is parsed: picocli would print the usage and exit 0 for {@code pulsar --help}.
     */
    static int execute(String[] args) {
        CommandLine cl = commandLine(args);
        if (args.length > 0 && !args[0].startsWith("-") && !cl.getSubcommands().containsKey(args[0])) {
            cl.getErr().println("fedlink: '" + args[0] + "' is not a command of fedlink-proxy.jar, which runs only"
                    + " proxy and agent: run it from fedlink.jar");
            new UnmatchedArgumentException(cl, List.of(args[0])).printSuggestions(cl.getErr());
            cl.getErr().flush();
            return 2;
        }
        return Commands.execute(cl, args);
    }

    /** Runs the command and exits with its status. */
    public static void main(String[] args) {
        System.exit(execute(args));
    }
}
