package io.fedlink.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code fedlink} command: a thin shell over the fedlink modules. Each subcommand lives in its own class and
 * is registered in {@link #SUBCOMMANDS}.
 */
@Command(name = "fedlink",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Build and run a secure star network of federated-learning parties: "
                + "an SNI tunnel proxy, an in-memory CA and Pulsar wiring, without openssl, keytool or Traffic Server.",
        subcommandsRepeatable = false)
public final class Main implements Runnable {
    /** Subcommand classes, in the order {@code --help} lists them. */
    static final List<Class<?>> SUBCOMMANDS = List.of(DemoCommand.class, PkiCommand.class, ProxyCommand.class,
            FederationCommand.class,
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
        CommandLine cl = new CommandLine(new Main());
        for (Class<?> c : SUBCOMMANDS) {
            cl.addSubcommand(c);
        }
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        // Refusals (bad input, bad files) print one line naming the problem, not a stack trace.
        // A mistyped subcommand gets picocli's "Did you mean" suggestions.
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            String line = Errors.message(e);
            if (line == null) {
                throw e;
            }
            cmd.getErr().println("fedlink: " + line);
            return 1;
        });
        return cl;
    }

    /** Runs the command and exits with its status. */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** Reads the version written into the jar at build time. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("/fedlink-version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"fedlink " + p.getProperty("version", "unknown"),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
