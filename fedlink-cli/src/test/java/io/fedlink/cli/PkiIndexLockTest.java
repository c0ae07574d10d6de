package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fedlink.pki.CaFolder;
import io.fedlink.pki.EnrollmentAuthority;
import io.fedlink.pki.KeyType;
import io.fedlink.pki.internal.Keys;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pki cert create} racing an enrollment ({@code pki serve}'s {@link EnrollmentAuthority}) on one CA folder:
 * every issued serial must end up in {@code index.tsv} (without the folder lock, lines were lost).
 */
class PkiIndexLockTest {
    private static final int EACH = 25;
    private static final int PROCESSES = 3;

    @TempDir
    Path dir;

    @Test
    void certCreateRacingEnrollmentLosesNoIndexLine() throws Exception {
        Path ca = dir.resolve("ca");
        assertEquals(0, Cli.run("pki", "ca", "create", "--ca-dir", ca.toString(), "--permit-dns", "fate.org").code());
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < EACH; i++) {
            tokens.add(CaFolder.of(ca, null).createToken("p" + i, Duration.ofMinutes(10)));
        }
        // the server side has its own CA instance, loaded once, as 'pki serve' has
        EnrollmentAuthority serve = EnrollmentAuthority.forFolder(ca, null, "fate.org", null);
        Set<BigInteger> issued = java.util.Collections.synchronizedSet(new HashSet<>());
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> enrollments = pool.submit(() -> {
                go.await();
                for (int i = 0; i < EACH; i++) {
                    String csr = Keys.csr(KeyType.EC_P256.generate(), "p" + i + ".fate.org");
                    issued.add(serve.enroll(tokens.get(i), csr, null).certificate().getSerialNumber());
                }
                return null;
            });
            Future<?> creates = pool.submit(() -> {
                go.await();
                for (int i = 0; i < EACH; i++) {
                    Cli r = Cli.run("pki", "cert", "create", "--ca-dir", ca.toString(), "--name", "h" + i + ".fate.org",
                            "--out", dir.resolve("out").toString());
                    assertEquals(0, r.code(), r.err());
                    String serial = r.out().lines().filter(l -> l.startsWith("serial ")).findFirst().orElseThrow();
                    issued.add(new BigInteger(serial.substring(7), 16));
                }
                return null;
            });
            go.countDown();
            assertNull(enrollments.get(120, TimeUnit.SECONDS));
            assertNull(creates.get(120, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
        Set<BigInteger> indexed = new HashSet<>();
        for (String e : CaFolder.of(ca, null).list()) {
            indexed.add(new BigInteger(e.split(" ")[1], 16)); // serial <hex> ...
        }
        Set<BigInteger> lost = new HashSet<>(issued);
        lost.removeAll(indexed);
        assertEquals(2 * EACH, issued.size());
        assertEquals(Set.of(), lost, lost.size() + " of " + issued.size() + " issued serials are missing from "
                + Files.readString(ca.resolve("index.tsv")).lines().count() + "-line index.tsv");
    }

    /** The same race across processes: the file lock, not only the in-JVM lock, keeps every line. */
    @Test
    void certCreateInOtherProcessesRacingEnrollmentLosesNoIndexLine() throws Exception {
        Path ca = dir.resolve("ca");
        assertEquals(0, Cli.run("pki", "ca", "create", "--ca-dir", ca.toString(), "--permit-dns", "fate.org").code());
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            tokens.add(CaFolder.of(ca, null).createToken("q" + i, Duration.ofMinutes(10)));
        }
        EnrollmentAuthority serve = EnrollmentAuthority.forFolder(ca, null, "fate.org", null);
        Set<BigInteger> issued = java.util.Collections.synchronizedSet(new HashSet<>());
        ExecutorService pool = Executors.newFixedThreadPool(1);
        try {
            Future<?> processes = pool.submit(() -> {
                String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
                for (int i = 0; i < PROCESSES; i++) {
                    Process p = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"),
                            "io.fedlink.cli.Main", "pki", "cert", "create", "--ca-dir", ca.toString(), "--name",
                            "x" + i + ".fate.org", "--out", dir.resolve("out").toString())
                            .redirectError(ProcessBuilder.Redirect.DISCARD).start();
                    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                    assertEquals(true, p.waitFor(120, TimeUnit.SECONDS));
                    assertEquals(0, p.exitValue(), out);
                    String serial = out.lines().filter(l -> l.startsWith("serial ")).findFirst().orElseThrow();
                    issued.add(new BigInteger(serial.substring(7), 16));
                }
                return null;
            });
            for (int i = 0; !processes.isDone() && i < tokens.size(); i++) {
                String csr = Keys.csr(KeyType.EC_P256.generate(), "q" + i + ".fate.org");
                issued.add(serve.enroll(tokens.get(i), csr, null).certificate().getSerialNumber());
            }
            assertNull(processes.get(300, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
        Set<BigInteger> indexed = new HashSet<>();
        for (String e : CaFolder.of(ca, null).list()) {
            indexed.add(new BigInteger(e.split(" ")[1], 16)); // serial <hex> ...
        }
        Set<BigInteger> lost = new HashSet<>(issued);
        lost.removeAll(indexed);
        assertEquals(Set.of(), lost, lost.size() + " of " + issued.size() + " issued serials are missing");
        System.out.println("index lock across processes: " + issued.size() + " issued (" + PROCESSES
                + " by other processes), " + lost.size() + " lost");
    }
}
