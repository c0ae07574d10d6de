package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Runs external tools (openssl, keytool, etcdctl) for tests. */
public final class Tools {
    private Tools() {}

    /** Runs a command in {@code dir}; returns exit code and combined output. */
    public static Result run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean done = p.waitFor(60, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done, "timed out: " + String.join(" ", cmd));
        return new Result(p.exitValue(), out);
    }

    /** Runs and requires exit code 0. */
    public static String ok(Path dir, String... cmd) throws IOException, InterruptedException {
        Result r = run(dir, cmd);
        assertTrue(r.code == 0, String.join(" ", cmd) + " failed (" + r.code + "):\n" + r.out);
        return r.out;
    }

    /** An exit code and the combined output. */
    public record Result(int code, String out) {}
}
