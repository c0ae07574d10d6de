package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.cli.proxy.ProxyCommand;
import io.fedlink.cli.support.Commands;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import picocli.CommandLine;
import org.junit.jupiter.api.Test;

class MainTest {
    @Test
    void helpListsEverySubcommand() {
        Cli r = Cli.run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("Usage: fedlink"), r.out());
        for (String sub : new String[] {"demo", "pki", "proxy", "pulsar"}) {
            assertTrue(r.out().contains("  " + sub + " "), sub + " missing from:\n" + r.out());
        }
    }

    @Test
    void aNamedSubcommandIsBuiltAlone() {
        assertEquals(List.of(ProxyCommand.class), needed("proxy", "--listen", "443"));
        assertEquals(List.of(PkiCommand.class), needed("pki", "ca", "create"));
        assertEquals(Main.SUBCOMMANDS, needed());
        assertEquals(Main.SUBCOMMANDS, needed("--help"));
        assertEquals(Main.SUBCOMMANDS, needed("prox")); // picocli's "did you mean" needs them all
    }

    private static List<Class<?>> needed(String... args) {
        return Commands.needed(Main.SUBCOMMANDS, args);
    }

    @Test
    void oneSubcommandAloneKeepsItsHelpAndErrors() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine alone = Commands.commandLine(new Main(), needed("proxy"));
        alone.setOut(new PrintWriter(out, true));
        alone.setErr(new PrintWriter(err, true));
        assertEquals(0, alone.execute("proxy", "--help"));
        assertEquals(Cli.run("proxy", "--help").out(), out.toString());
        assertEquals(2, alone.execute("proxy", "--no-such-option"));
        assertTrue(err.toString().contains("Unknown option: '--no-such-option'"), err.toString());
    }

    @Test
    void versionComesFromTheBuild() {
        Cli r = Cli.run("--version");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("fedlink 0."), r.out());
    }

    @Test
    void unknownOptionIsAUsageError() {
        Cli r = Cli.run("--no-such-option");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--no-such-option"), r.err());
    }

    @Test
    void demoRunsTheStarNetwork() {
        Cli r = Cli.run("demo");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("party 9999 received 'hello from 10000' from CN=10000.fate.org"), r.out());
        assertTrue(r.out().contains("party 10000 received 'hello from 9999' from CN=9999.fate.org"), r.out());
        assertTrue(r.out().contains("8888.fate.org (no route) refused by the proxy"), r.out());
        assertTrue(r.out().contains("\"proxyServiceUrl\" : \"pulsar+ssl://proxy.fate.org:443\""), r.out());
        assertTrue(r.out().endsWith("==> star network OK\n"), r.out());
    }
}
