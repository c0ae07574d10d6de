package io.fedlink.cli.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fedlink-proxy.jar} as it is shipped: it holds the proxy and the agent and nothing of Pulsar or the bundle
 * (its module cannot depend on them), and it runs as {@code java -jar}. The jar is this module's package, or the
 * one {@code -Dfedlink.proxy.jar=FILE} names.
 */
class ProxyJarIT {
    private static final Path JAR = Path.of(System.getProperty("fedlink.proxy.jar", "target/fedlink-proxy.jar"));

    @TempDir
    Path dir;

    /** {@code java -jar fedlink-proxy.jar ARGS} run to its end: exit code, standard output, standard error. */
    private record Run(int code, String out, String err) {}

    private Run run(String... args) throws Exception {
        assertTrue(Files.exists(JAR), "package fedlink-proxy-cli first: " + JAR.toAbsolutePath());
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        File out = dir.resolve("out").toFile();
        File err = dir.resolve("err").toFile();
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out).redirectError(err).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + cmd);
        return new Run(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
                Files.readString(err.toPath(), StandardCharsets.UTF_8));
    }

    @Test
    void holdsTheProxyAndTheAgentAndNothingOfPulsarOrTheBundle() throws Exception {
        try (ZipFile jar = new ZipFile(JAR.toFile())) {
            assertNotNull(jar.getEntry("io/fedlink/sni/LoopServer.class"));
            assertNotNull(jar.getEntry("io/fedlink/sni/Agent.class"));
            assertNotNull(jar.getEntry("io/fedlink/registry/EtcdRouteSource.class"), "--etcd needs the registry");
            for (String banned : List.of("org/apache/pulsar/", "io/fedlink/bundle/", "io/fedlink/pulsar/",
                    "org/apache/avro/")) {
                List<String> found = jar.stream().map(e -> e.getName()).filter(n -> n.startsWith(banned)).limit(3)
                        .toList();
                assertTrue(found.isEmpty(), "the proxy jar holds " + found);
            }
        }
    }

    @Test
    void helpListsProxyAndAgent() throws Exception {
        Run r = run("--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("Usage: fedlink"), r.out());
        for (String sub : List.of("proxy", "agent")) {
            assertTrue(r.out().contains("\n  " + sub + " "), sub + " missing from:\n" + r.out());
        }
        assertEquals("", r.err());
    }

    @Test
    void aCommandOfTheFullJarIsRefusedInOneLineNamingIt() throws Exception {
        Run r = run("pulsar", "--help");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("fedlink: 'pulsar' is not a command of fedlink-proxy.jar, which runs only proxy"
                + " and agent: run it from fedlink.jar\n"), r.err());
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), r.err());
        Run typo = run("prox");
        assertEquals(2, typo.code(), typo.err());
        assertTrue(typo.err().contains("Did you mean: fedlink proxy?"), typo.err());
    }

    @Test
    void versionComesFromTheBuild() throws Exception {
        Run r = run("--version");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("fedlink 0."), r.out());
    }
}
