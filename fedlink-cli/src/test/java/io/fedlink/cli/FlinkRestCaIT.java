package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fedlink bundle flink} with the jar as a process: the REST trust store makes every certificate of its CA a
 * Flink REST client, so the federation's CA (one that enrolls or certifies parties, or any CA not made for the REST
 * endpoint) is refused with the reason and nothing is written; the dedicated REST CA the bundle makes by default,
 * or in an empty {@code --ca-dir}, is accepted again later.
 */
class FlinkRestCaIT {
    @TempDir
    Path dir;

    private static Cli fedlink(String... args) throws Exception {
        return ProxyProcess.run(ProxyProcess.fullJar(), args);
    }

    private static void ok(Cli r) {
        assertEquals(0, r.code(), r.out());
    }

    @Test
    void theFederationCaIsRefusedAndTheDedicatedOneAccepted() throws Exception {
        Path federation = dir.resolve("fate-ca");
        ok(fedlink("pki", "ca", "create", "--ca-dir", federation.toString(), "--name", "fate.org CA",
                "--permit-dns", "fate.org"));
        ok(fedlink("pki", "cert", "create", "--ca-dir", federation.toString(), "--party", "9999", "--role", "peer"));
        Cli refused = fedlink("bundle", "flink", "--ca-dir", federation.toString(), "--out",
                dir.resolve("flink").toString(), "--rest-name", "jm.fate.org");
        assertNotEquals(0, refused.code(), refused.out());
        assertTrue(refused.out().contains("'" + federation + "'") && refused.out().contains("Flink REST client"),
                refused.out());
        assertFalse(Files.exists(dir.resolve("flink")), "nothing written for a refused CA");

        ok(fedlink("pki", "token", "create", "--ca-dir", federation.toString(), "--party", "10000"));
        Cli enrolling = fedlink("bundle", "flink", "--ca-dir", federation.toString(), "--out",
                dir.resolve("flink").toString(), "--rest-name", "jm.fate.org");
        assertNotEquals(0, enrolling.code(), enrolling.out());
        assertTrue(enrolling.out().contains("enrolls parties"), enrolling.out());

        ok(fedlink("bundle", "flink", "--out", dir.resolve("flink").toString()));
        assertTrue(Files.exists(dir.resolve("flink/ca/flink-rest-ca")), "the dedicated REST CA is marked");
        ok(fedlink("bundle", "flink", "--ca-dir", dir.resolve("flink/ca").toString(), "--out",
                dir.resolve("flink-again").toString(), "--no-internal"));
        assertEquals(Files.readString(dir.resolve("flink/ca.pem")), Files.readString(dir.resolve("flink-again/ca.pem")));
        ok(fedlink("bundle", "flink", "--ca-dir", dir.resolve("empty").toString(), "--out",
                dir.resolve("flink-own").toString()));
        assertTrue(Files.exists(dir.resolve("empty/flink-rest-ca")));
    }

    @Test
    void aRefusedBundleLeavesNothingBehind() throws Exception {
        Path out = dir.resolve("flink");
        Cli badName = fedlink("bundle", "flink", "--out", out.toString(), "--rest-name", "not a name!");
        assertNotEquals(0, badName.code(), badName.out());
        assertTrue(badName.out().contains("not a name!"), badName.out());
        assertFalse(Files.exists(out), "a refused REST name leaves no internal store behind");

        Files.writeString(dir.resolve("a-file"), "x");
        Cli noCa = fedlink("bundle", "flink", "--out", out.toString(), "--ca-dir", dir.resolve("a-file/ca").toString());
        assertNotEquals(0, noCa.code(), noCa.out());
        assertFalse(Files.exists(out), "certificates of a CA that could not be saved are not left behind");

        ok(fedlink("bundle", "flink", "--out", out.toString()));
        assertTrue(Files.isRegularFile(out.resolve("rest-client.keystore.p12")));
        assertTrue(Files.isRegularFile(out.resolve("ca/flink-rest-ca")));
    }
}
