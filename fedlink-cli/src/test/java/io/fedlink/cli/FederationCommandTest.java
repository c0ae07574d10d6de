package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code fedlink federation} without etcd: help, and refusals before any connection. */
class FederationCommandTest {
    @Test
    void helpListsTheFederationCommands() {
        Cli top = Cli.run("--help");
        assertTrue(top.out().contains("  federation "), top.out());
        Cli fed = Cli.run("federation", "--help");
        for (String sub : new String[] {"init", "party", "status", "export"}) {
            assertTrue(fed.out().contains("  " + sub + " "), sub + " missing from:\n" + fed.out());
        }
        Cli add = Cli.run("federation", "party", "add", "--help");
        assertTrue(add.out().contains("--etcd-tls=DIR") && add.out().contains("ca.pem"),
                add.out());
    }

    @Test
    void refusalsBeforeConnecting() {
        Cli noFederation = Cli.run("federation", "status", "--etcd", "http://127.0.0.1:2379");
        assertEquals(1, noFederation.code());
        assertEquals("fedlink: give --federation NAME\n", noFederation.err());
        Cli badName = Cli.run("federation", "status", "--etcd", "http://127.0.0.1:2379", "--federation", "a b");
        assertTrue(badName.err().contains("invalid federation name 'a b'"), badName.err());
        Cli badFormat = Cli.run("federation", "export", "--etcd", "http://127.0.0.1:2379", "--federation", "x",
                "--format", "xml");
        assertTrue(badFormat.err().contains("unknown --format 'xml'"), badFormat.err());
        Cli missingTls = Cli.run("federation", "status", "--etcd", "https://127.0.0.1:2379", "--federation", "x",
                "--etcd-tls", "no-such-folder");
        assertEquals(1, missingTls.code());
        assertTrue(missingTls.err().contains("no-such-folder"), missingTls.err());
    }
}
