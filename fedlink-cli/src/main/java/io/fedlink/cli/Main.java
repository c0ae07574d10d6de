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
        return commandLine(SUBCOMMANDS);
    }

    /** Builds the command line with {@code subcommands} registered. */
    static CommandLine commandLine(List<Class<?>> subcommands) {
        CommandLine cl = new CommandLine(new Main());
        for (Class<?> c : subcommands) {
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
        int status;
        try {
            CommandLine cl = commandLine(needed(args));
            status = cl.execute(args);
            // picocli's writers flush only on println: output ending without a newline (a printed sni.yaml) would
            // be lost at System.exit
            cl.getOut().flush();
            cl.getErr().flush();
        } catch (NoClassDefFoundError e) { // fedlink-proxy.jar leaves out what only other commands use
            String missing = String.valueOf(e.getMessage()).replace('/', '.');
            System.err.println("fedlink: '" + (args.length > 0 ? args[0] : "") + "' needs " + missing
                    + ", which this jar does not hold (fedlink-proxy.jar is the proxy's jar): run it from fedlink.jar");
            status = 1;
        }
        System.exit(status);
    }

    /**
     * The subcommand {@code args[0]} names, alone, else all of them. Building a subcommand's model reflects on its
     * classes and loads the types their methods name: registering all of them cost a {@code fedlink proxy} about
     * 4 MiB of resident memory (picocli's models of every command's options, 73 more classes) and needed the Pulsar
     * client's classes on the class path, which {@code fedlink-proxy.jar} leaves out. Help and suggestions for that
     * subcommand's options are the same either way.
     */
    static List<Class<?>> needed(String[] args) {
        if (args.length > 0) {
            for (Class<?> c : SUBCOMMANDS) {
                if (c.getAnnotation(Command.class).name().equals(args[0])) {
                    return List.of(c);
                }
            }
        }
        return SUBCOMMANDS;
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
