package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteTable;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8 finding 5: the route file is bounded, debounced and never stops being watched. Polls are driven by the
 * test (the source's own poll interval is an hour), so every step is deterministic.
 */
class RouteFileSourceTest {
    private static final Duration NEVER = Duration.ofHours(1);
    @TempDir
    Path dir;

    private static String routes(int n) {
        StringBuilder b = new StringBuilder("sni:\n");
        for (int i = 0; i < n; i++) {
            b.append("  - fqdn: p").append(i).append(".fate.org\n    tunnel_route: 127.0.0.1:").append(1000 + i)
                    .append('\n');
        }
        return b.toString();
    }

    @Test
    void aHugeSparseFileIsRefusedUnreadAndLaterEditsStillLoad() throws Exception {
        Path f = Files.writeString(dir.resolve("sni.yaml"), routes(2));
        try (RouteFileSource src = new RouteFileSource(f, NEVER)) {
            RouteHolder h = src.start();
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.setLength(3L << 30); // 3 GiB, sparse
            }
            src.poll();
            src.poll();
            assertEquals(2, h.current().size(), "the previous table stays");
            assertTrue(src.problem().orElseThrow().contains("3221225472 bytes, more than the 1048576"),
                    src.problem().toString());
            Files.writeString(f, routes(3));
            src.poll();
            src.poll();
            assertEquals(3, h.current().size(), "a valid edit after the huge file loads");
            assertTrue(src.problem().isEmpty());
        }
    }

    @Test
    void aFileCaughtMidWriteIsNotLoaded() throws Exception {
        Path f = Files.writeString(dir.resolve("sni.yaml"), routes(10));
        try (RouteFileSource src = new RouteFileSource(f, NEVER)) {
            RouteHolder h = src.start();
            List<Integer> sizes = new CopyOnWriteArrayList<>();
            h.addListener((before, after) -> sizes.add(after.size()));
            String next = routes(12);
            int cut = next.indexOf("  - fqdn: p6"); // an entry boundary: the half is a valid, smaller table
            for (int step = cut; step <= next.length(); step += Math.max(1, next.length() - cut)) {
                Files.writeString(f, next.substring(0, step)); // the writer is still going at each poll
                src.poll();
            }
            assertEquals(List.of(), sizes, "nothing loaded while the file kept changing");
            src.poll();
            assertEquals(List.of(12), sizes, "loaded once it stayed the same over two polls");
        }
    }

    @Test
    void aMissingFileKeepsTheTableAndSaysNotFound() throws Exception {
        Path f = Files.writeString(dir.resolve("sni.yaml"), routes(2));
        try (RouteFileSource src = new RouteFileSource(f, NEVER)) {
            RouteHolder h = src.start();
            Files.delete(f);
            src.poll();
            assertEquals(2, h.current().size());
            assertTrue(src.problem().orElseThrow().contains("not found"), src.problem().toString());
            Files.writeString(f, routes(2));
            src.poll();
            assertTrue(src.problem().isEmpty(), "the same file back: nothing to reload, nothing wrong");
        }
    }

    @Test
    void anErrorWhileLoadingDoesNotStopTheWatch() throws Exception {
        Path f = Files.writeString(dir.resolve("sni.yaml"), routes(1));
        AtomicBoolean failOnce = new AtomicBoolean();
        try (RouteFileSource src = new RouteFileSource(f, NEVER, t -> {
            if (failOnce.getAndSet(false)) {
                throw new OutOfMemoryError("test");
            }
            return t;
        })) {
            RouteHolder h = src.start();
            failOnce.set(true);
            Files.writeString(f, routes(2));
            src.poll();
            src.poll();
            assertEquals(1, h.current().size());
            assertTrue(src.problem().orElseThrow().contains("OutOfMemoryError"), src.problem().toString());
            Files.writeString(f, routes(3));
            src.poll();
            src.poll();
            assertEquals(3, h.current().size());
        }
    }

    /** Replaces the file as operators are told to: a temporary file renamed over it. */
    private static void replace(Path f, String text) throws Exception {
        Path tmp = Files.writeString(f.resolveSibling(f.getFileName() + ".tmp"), text);
        Files.move(tmp, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void reloadNowLoadsAtOnceAndRefusesWhatPollsRefuse() throws Exception {
        Path f = Files.writeString(dir.resolve("sni.yaml"), routes(1));
        try (RouteFileSource src = new RouteFileSource(f, NEVER)) {
            assertThrows(IllegalStateException.class, src::reloadNow, "not started yet");
            RouteHolder h = src.start();
            assertTrue(src.reloadNow(), "unchanged: the table in force is the file's");
            replace(f, routes(3));
            assertTrue(src.reloadNow());
            assertEquals(3, h.current().size(), "loaded without waiting for a poll");

            replace(f, "sni:\n  - fqdn: bad_name\n    tunnel_route: 127.0.0.1:1\n");
            assertEquals(false, src.reloadNow());
            assertEquals(3, h.current().size(), "an invalid file keeps the table");
            assertTrue(src.problem().orElseThrow().contains("bad_name"), src.problem().toString());
            src.poll();
            src.poll();
            assertEquals(3, h.current().size(), "nor do the polls load it");

            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.setLength(2L << 20);
            }
            assertEquals(false, src.reloadNow());
            assertTrue(src.problem().orElseThrow().contains("more than the 1048576"), src.problem().toString());
            Files.delete(f);
            assertEquals(false, src.reloadNow());
            assertEquals("not found", src.problem().orElseThrow());

            replace(f, routes(2));
            assertTrue(src.reloadNow());
            assertEquals(2, h.current().size());
            assertTrue(src.problem().isEmpty());
        }
    }

    @Test
    void reloadNowDoesNotLoadAFileStillBeingWritten() throws Exception {
        Path f = Files.writeString(dir.resolve("sni.yaml"), routes(1));
        try (RouteFileSource src = new RouteFileSource(f, NEVER)) {
            RouteHolder h = src.start();
            String next = routes(12);
            int cut = next.indexOf("  - fqdn: p6"); // an entry boundary: the half is a valid, smaller table
            Files.writeString(f, next.substring(0, cut));
            src.betweenReadings = () -> {
                try {
                    Files.writeString(f, next); // the writer finishes while the source reads
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            };
            assertEquals(false, src.reloadNow());
            assertEquals(1, h.current().size(), "neither the half nor the whole: it was still changing");
            assertTrue(src.problem().orElseThrow().contains("changed while it was read"), src.problem().toString());
            src.betweenReadings = () -> { };
            assertTrue(src.reloadNow());
            assertEquals(12, h.current().size());
        }
    }

    @Test
    void intervalsAreBoundedAndAFixedSourceNeverChanges() throws Exception {
        assertEquals("route file poll interval must be 10ms..1h, was PT0S", assertThrows(
                IllegalArgumentException.class, () -> new RouteFileSource(dir, Duration.ZERO)).getMessage());
        RouteTable t = RouteTable.empty();
        try (var fixed = io.fedlink.api.RouteSource.of(t)) {
            assertEquals(t, fixed.start().current());
        }
    }
}
