package io.fedlink.app;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.function.Consumer;

/**
 * The access log of {@code fedlink proxy}: the proxy's log thread hands it finished lines, it keeps them and writes
 * them in one system call when the proxy's line queue runs dry (it is {@link Flushable}), instead of one write and
 * one logger call per connection. Only whole lines are ever written, so lines of other loggers on the same stream
 * never land inside one. Text lines carry the prefix the command's other log lines have (time, level, logger);
 * JSON lines go out as they are. Used on the proxy's log thread only.
 */
final class AccessLogWriter implements Consumer<String>, Flushable {
    /** Written out before it grows past this even if the queue never runs dry. */
    static final int BATCH_BYTES = 64 * 1024;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ")
            .withZone(ZoneId.systemDefault()); // as the command's simplelogger.properties writes time

    private final OutputStream out;
    private final boolean prefixed;
    private final boolean refusals;
    private final StringBuilder batch = new StringBuilder(BATCH_BYTES);

    private AccessLogWriter(OutputStream out, boolean prefixed, boolean refusals) {
        this.out = out;
        this.prefixed = prefixed;
        this.refusals = refusals;
    }

    /** JSON lines, bare, to standard output. */
    static AccessLogWriter json() {
        return new AccessLogWriter(new FileOutputStream(FileDescriptor.out), false, true);
    }

    /**
     * Text lines to standard error, as slf4j-simple would write them for the access and refusal loggers; refusal
     * lines only if {@code refusals} (their logger's level is on).
     */
    static AccessLogWriter text(boolean refusals) {
        return new AccessLogWriter(new FileOutputStream(FileDescriptor.err), true, refusals);
    }

    /** For tests: text lines to {@code out}. */
    static AccessLogWriter text(OutputStream out, boolean refusals) {
        return new AccessLogWriter(out, true, refusals);
    }

    @Override
    public void accept(String line) {
        boolean tunnel = line.startsWith("client="); // the proxy's text lines: a tunnel, or a refusal (or summary)
        if (prefixed && !tunnel && !refusals) {
            return;
        }
        if (batch.length() + line.length() > BATCH_BYTES) {
            try {
                flush();
            } catch (IOException e) { // the proxy's log thread counts the line as dropped
                throw new UncheckedIOException(e);
            }
        }
        if (prefixed) {
            TIME.formatTo(Instant.now(), batch);
            batch.append(tunnel ? " INFO access - " : " INFO refusals - ");
        }
        batch.append(line).append('\n');
    }

    @Override
    public void flush() throws IOException {
        if (batch.length() == 0) {
            return;
        }
        byte[] bytes = batch.toString().getBytes(StandardCharsets.UTF_8);
        batch.setLength(0);
        out.write(bytes);
        out.flush();
    }
}
