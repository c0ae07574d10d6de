package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run.sh} started twice at once on a tree whose jars are out of date (two proxies started by one systemd
 * target, or a script, right after a pull): one build, the other waits for it and uses its jars. Before the build
 * lock both ran Maven in the same tree and one failed with Maven's error instead of starting its proxy.
 */
class RunScriptIT {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    void twoStartsOnAnOutdatedTreeBuildOnce() throws Exception {
        Path builds = dir.resolve("builds");
        // A stub Maven on the PATH: counts its runs and takes a while, as a real build does.
        Path stubs = Files.createDirectories(dir.resolve("stubs"));
        Path mvn = Files.writeString(stubs.resolve("mvn"),
                "#!/bin/sh\necho build >> '" + builds + "'\nsleep 2\nexit 0\n");
        assertTrue(mvn.toFile().setExecutable(true));
        Path[] jars = {ProxyProcess.fullJar(), ProxyProcess.jar()}; // both must exist
        try {
            for (Path jar : jars) { // older than every source: run.sh must build
                Files.setLastModifiedTime(jar, FileTime.from(Instant.parse("2001-01-01T00:00:00Z")));
            }
            List<Process> runs = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                ProcessBuilder pb = new ProcessBuilder("bash", REPO.resolve("run.sh").toString(), "--version")
                        .directory(dir.toFile()).redirectErrorStream(true)
                        .redirectOutput(dir.resolve("run" + i + ".out").toFile());
                pb.environment().put("PATH", stubs + ":" + System.getenv("PATH"));
                runs.add(pb.start());
            }
            for (int i = 0; i < runs.size(); i++) {
                assertTrue(runs.get(i).waitFor(60, TimeUnit.SECONDS), "run.sh " + i + " did not end");
                String out = Files.readString(dir.resolve("run" + i + ".out"));
                assertEquals(0, runs.get(i).exitValue(), out);
                assertTrue(out.contains("fedlink 0."), out);
            }
            assertEquals(List.of("build"), Files.readAllLines(builds), "Maven runs");
            for (Path jar : jars) {
                assertTrue(Files.getLastModifiedTime(jar).toInstant().isAfter(Instant.parse("2001-01-02T00:00:00Z")),
                        jar + " was not marked as built");
            }
        } finally {
            for (Path jar : jars) { // never leave the jars looking stale to later tests
                if (Files.getLastModifiedTime(jar).toInstant().isBefore(Instant.parse("2001-01-02T00:00:00Z"))) {
                    Files.setLastModifiedTime(jar, FileTime.from(Instant.now()));
                }
            }
        }
    }
}
