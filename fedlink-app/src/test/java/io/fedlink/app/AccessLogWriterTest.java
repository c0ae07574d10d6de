package io.fedlink.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class AccessLogWriterTest {
    /** Counts the writes it receives, so batching is visible. */
    static final class CountingStream extends ByteArrayOutputStream {
        int writes;

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            writes++;
            super.write(b, off, len);
        }
    }

    @Test
    void linesAreWrittenWholeInOneWritePerBatchWithTheLoggersPrefix() throws Exception {
        CountingStream out = new CountingStream();
        AccessLogWriter w = AccessLogWriter.text(out, true);
        w.accept("client=/127.0.0.1:1 sni=a.example target=127.0.0.1:2 up=1 down=2 duration_ms=3 reason=COMPLETED");
        w.accept("refused client=/127.0.0.1:1 sni=b.example reason=UNKNOWN_SERVER_NAME (no route)");
        assertEquals(0, out.writes, "nothing written before the flush");
        w.flush();
        w.flush(); // nothing new: no second write
        assertEquals(1, out.writes);
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(2, lines.size());
        assertTrue(lines.get(0).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d{4} INFO access - client=.*"),
                lines.get(0));
        assertTrue(lines.get(1).matches(".* INFO refusals - refused client=.*"), lines.get(1));
    }

    @Test
    void aFullBatchIsWrittenBeforeItGrowsPastItsCapAndRefusalsCanBeOff() throws Exception {
        CountingStream out = new CountingStream();
        AccessLogWriter w = AccessLogWriter.text(out, false);
        String line = "client=/127.0.0.1:1 sni=" + "a".repeat(200) + " reason=COMPLETED";
        int n = 2 * AccessLogWriter.BATCH_BYTES / line.length();
        for (int i = 0; i < n; i++) {
            w.accept(line);
            w.accept("refused client=/127.0.0.1:1 sni=x reason=NOT_TLS (-)");
        }
        w.flush();
        assertTrue(out.writes >= 2 && out.writes <= 4, out.writes + " writes");
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(n, lines.size(), "every tunnel line, whole; no refusal line");
        assertTrue(lines.stream().allMatch(l -> l.endsWith(line)));
    }
}
