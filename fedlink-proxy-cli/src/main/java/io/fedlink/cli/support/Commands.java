package io.fedlink.cli.support;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * What every fedlink jar's {@code main} does the same way: build the command line with the subcommands it needs,
 * print refusals as one line, run it and flush its output.
 */
public final class Commands {
    private Commands() {}

    /**
     * The command line of {@code top} with {@code subcommands} registered: enum values case-insensitive, and a
     * refusal (bad input, bad files; see {@link Errors}) printed as one line naming the problem, exit status 1,
     * instead of a stack trace. A mistyped subcommand gets picocli's "Did you mean" suggestions.
     */
    public static CommandLine commandLine(Object top, List<Class<?>> subcommands) {
        CommandLine cl = new CommandLine(top);
        for (Class<?> c : subcommands) {
            cl.addSubcommand(c);
        }
        cl.setCaseInsensitiveEnumValuesAllowed(true);
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

    /**
     * The one of {@code all} that {@code args[0]} names, alone, else all of them. Building a subcommand's model
     * reflects on its classes and loads the types their methods name: registering every command of fedlink.jar cost
     * a {@code fedlink proxy} about 4 MiB of resident memory (picocli's models of every command's options, 73 more
     * classes). Help and suggestions for that subcommand's options are the same either way.
     */
    public static List<Class<?>> needed(List<Class<?>> all, String[] args) {
        if (args.length > 0) {
            for (Class<?> c : all) {
                if (c.getAnnotation(Command.class).name().equals(args[0])) {
                    return List.of(c);
                }
            }
        }
        return all;
    }

    /**
     * Runs {@code args} on {@code cl} and returns the exit status, its output flushed: picocli's writers flush only
     * on println, and output ending without a newline (a printed sni.yaml) would be lost at {@code System.exit}.
     */
    public static int execute(CommandLine cl, String[] args) {
        int status = cl.execute(args);
        cl.getOut().flush();
        cl.getErr().flush();
        return status;
    }

    /** {@code --version}: the version written into the jar at build time, and the Java running it. */
    public static final class Version implements CommandLine.IVersionProvider {
        /** Creates the provider (picocli does, for {@code versionProvider = Commands.Version.class}). */
        public Version() {}

        /** The lines {@code --version} prints. */
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Version.class.getResourceAsStream("/fedlink-version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"fedlink " + p.getProperty("version", "unknown"),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
