package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fedlink agent} and {@code fedlink proxy --agent-listen} as a user runs them: the packaged jars as processes,
 * certificates from {@code fedlink pki}, a party broker (a tag server) on 127.0.0.2 that only its agent reaches.
 */
class AgentCommandIT {
    @TempDir
    Path dir;

    private Cli fedlink(String... args) throws Exception {
        return ProxyProcess.runSplit(ProxyProcess.fullJar(), args);
    }

    private void ok(String... args) throws Exception {
        Cli c = fedlink(args);
        assertEquals(0, c.code(), String.join(" ", args) + ": " + c.out() + c.err());
    }

    @Test
    void aPartyWithNoInboundPortIsReachedThroughItsAgentUntilItIsRevoked() throws Exception {
        String ca = dir.resolve("ca").toString();
        String out = dir.toString();
        ok("pki", "ca", "create", "--ca-dir", ca);
        ok("pki", "cert", "create", "--ca-dir", ca, "--name", "proxy.fate.org", "--san", "127.0.0.1", "--out", out,
                "--file", "proxy");
        ok("pki", "cert", "create", "--ca-dir", ca, "--party", "10000", "--out", out, "--file", "party-10000");
        ok("pki", "crl", "--ca-dir", ca);
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni:\n- fqdn: 10000.fate.org\n  agent: '10000'\n");
        int port = ProxyProcess.freePort();
        int agentPort = ProxyProcess.freePort();
        try (ProxyProcess.TagTarget broker = new ProxyProcess.TagTarget("broker-10000",
                     InetAddress.getByName("127.0.0.2"));
             ProxyProcess proxy = ProxyProcess.start("proxy", "--listen", "127.0.0.1:" + port, "--routes",
                     routes.toString(), "--agent-listen", "127.0.0.1:" + agentPort, "--agent-cert", out + "/proxy.pem",
                     "--agent-key", out + "/proxy-key.pem", "--agent-ca", ca + "/ca.pem", "--agent-crl",
                     ca + "/crl.pem", "--reload-interval", "200ms")) {
            proxy.awaitLog("fedlink proxy accepting party agents on /127.0.0.1:" + agentPort);
            // before the agent: refused at once (the client sees the close, not a hang)
            assertEquals("", ProxyProcess.ask(port, "10000.fate.org"));
            try (ProxyProcess agent = ProxyProcess.start("agent", "--cert", out + "/party-10000.pem", "--key",
                    out + "/party-10000-key.pem", "--ca", ca + "/ca.pem", "--proxy", "127.0.0.1:" + agentPort,
                    "--target", "127.0.0.2:" + broker.port())) {
                agent.awaitLog("fedlink agent connected to 127.0.0.1:" + agentPort + " as party 10000");
                proxy.awaitLog("agent of party 10000 connected");
                for (int i = 0; i < 6; i++) {
                    assertEquals("broker-10000", ProxyProcess.ask(port, "10000.fate.org"));
                }
                long revoked = System.nanoTime();
                ok("pki", "party", "revoke", "--ca-dir", ca, "10000"); // writes crl.pem; the proxy re-reads it
                proxy.awaitLog("was cut off");
                long cutMillis = (System.nanoTime() - revoked) / 1_000_000;
                agent.awaitLog("fedlink agent link to 127.0.0.1:" + agentPort + " down");
                assertEquals("", ProxyProcess.ask(port, "10000.fate.org"), "no tunnel after the revocation");
                System.out.println("revocation to agent cut off (CLI revoke included): " + cutMillis + " ms");
                assertTrue(agent.process.isAlive(), "the agent keeps redialling (and is refused)");
            }
        }
    }

    @Test
    void optionsThatDoNotFitAreRefusedNamingThem() throws Exception {
        Cli none = fedlink("agent", "--proxy", "127.0.0.1:7443", "--target", "127.0.0.1:6651");
        assertEquals(2, none.code(), none.err());
        assertTrue(none.err().contains("give the party's identity: --party-dir DIR, or --cert FILE --key FILE --ca"
                + " FILE"), none.err());
        Cli badTarget = fedlink("agent", "--party-dir", dir.toString(), "--proxy", "127.0.0.1:7443", "--target",
                "127.0.0.1");
        assertEquals(2, badTarget.code(), badTarget.err());
        assertTrue(badTarget.err().contains("invalid value for option '--target'"), badTarget.err());
        Cli proxy = fedlink("proxy", "--routes", dir.resolve("x.yaml").toString(), "--agent-listen", "7443");
        assertEquals(2, proxy.code(), proxy.err());
        assertTrue(proxy.err().contains("--agent-listen needs --agent-cert, --agent-key and --agent-ca"),
                proxy.err());
    }
}
