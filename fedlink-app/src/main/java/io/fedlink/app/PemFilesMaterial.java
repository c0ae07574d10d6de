package io.fedlink.app;

import io.fedlink.api.PemCodec;
import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.api.TlsMaterial;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS material from PEM files (certificate chain, private key, CA certificates, optional CRL), re-read every interval
 * when any of them changed, so a renewed certificate or a new CRL takes effect without a restart. A change that
 * cannot be read is reported once and the material in force kept. The key file must not be readable by other users.
 */
public final class PemFilesMaterial implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PemFilesMaterial.class);
    /** Largest PEM file read (a CRL of many revocations stays far below). */
    private static final long MAX_BYTES = 8 << 20;

    private final List<Path> files;
    private final ReloadableTlsMaterial live;
    private final ScheduledExecutorService timer;
    private byte[][] seen;
    private String failed;

    private PemFilesMaterial(List<Path> files, TlsMaterial first, byte[][] seen, Duration interval) {
        this.files = files;
        this.live = ReloadableTlsMaterial.of(first);
        this.seen = seen;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fedlink-pem-files");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::check, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Reads the files now (failing with a message naming the file when one is missing or invalid) and re-reads them
     * every {@code interval}; {@code crl} may be {@code null}.
     */
    public static PemFilesMaterial watch(Path cert, Path key, Path ca, Path crl, Duration interval) throws IOException {
        List<Path> files = new ArrayList<>(List.of(cert, key, ca));
        if (crl != null) {
            files.add(crl);
        }
        byte[][] content = read(files);
        return new PemFilesMaterial(List.copyOf(files), material(files, content), content, interval);
    }

    /** The material in force, updated when the files change. */
    public ReloadableTlsMaterial material() {
        return live;
    }

    private static byte[][] read(List<Path> files) throws IOException {
        byte[][] out = new byte[files.size()][];
        for (int i = 0; i < files.size(); i++) {
            Path f = files.get(i);
            try {
                if (Files.size(f) > MAX_BYTES) {
                    throw new IllegalArgumentException("'" + f + "' is larger than 8 MiB; is it the right file?");
                }
                out[i] = Files.readAllBytes(f);
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException("'" + f + "' not found", e);
            }
        }
        Path key = files.get(1);
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(key);
            if (mode.contains(PosixFilePermission.GROUP_READ) || mode.contains(PosixFilePermission.OTHERS_READ)) {
                throw new IllegalArgumentException("private key '" + key + "' is readable by other users: run chmod"
                        + " 600 " + key);
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
        return out;
    }

    private static TlsMaterial material(List<Path> files, byte[][] content) {
        String[] text = new String[content.length];
        for (int i = 0; i < content.length; i++) {
            text[i] = new String(content[i], StandardCharsets.US_ASCII);
        }
        TlsMaterial.Builder b = TlsMaterial.builder();
        try {
            b.identity(PemCodec.readPrivateKey(text[1]), PemCodec.readCertificates(text[0]));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + files.get(0) + "' and '" + files.get(1) + "': " + e.getMessage(),
                    e);
        }
        try {
            b.trust(PemCodec.readCertificates(text[2]));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + files.get(2) + "': " + e.getMessage(), e);
        }
        if (text.length > 3) {
            try {
                b.crls(List.of(PemCodec.readCrl(text[3])));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + files.get(3) + "': " + e.getMessage(), e);
            }
        }
        return b.build();
    }

    private void check() {
        try {
            byte[][] now = read(files);
            if (Arrays.deepEquals(now, seen)) {
                return;
            }
            live.update(material(files, now));
            seen = now;
            failed = null;
            log.info("TLS files {} re-read", files);
        } catch (IOException | RuntimeException e) {
            String problem = e.getMessage();
            if (!problem.equals(failed)) {
                log.warn("TLS files changed but cannot be used ({}); keeping the material in force", problem);
                failed = problem;
            }
        }
    }

    /** Stops re-reading the files. */
    @Override
    public void close() {
        timer.shutdownNow();
    }
}
