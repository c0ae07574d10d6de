package io.fedlink.pki;

import io.fedlink.api.SecureFiles;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The lock of a CA folder: held around every read-modify-write of its files ({@code index.tsv}, the tokens, a
 * rollover), so a {@code fedlink pki cert create} racing {@code fedlink pki serve}, or two operators, cannot lose an
 * index line. Across processes it is {@link FileChannel#lock} on {@code index.lock} beside the index (mode 0600,
 * never deleted: deleting a lock file races with its next user); within the JVM a {@link ReentrantLock} per folder,
 * because a file lock belongs to the whole JVM and two threads would both pass it. Re-entrant in one thread. The
 * folder of a previous CA during a rollover ({@code previous-ca}) shares the lock of its parent folder.
 *
 * <pre>{@code
 * try (CaFolderLock lock = CaFolderLock.acquire(dir)) {
 *     CertificateAuthority ca = CertificateAuthority.load(dir);   // read under the lock
 *     ca.issue(...);
 *     ca.saveIndex(dir);
 * }
 * }</pre>
 */
final class CaFolderLock implements java.io.Closeable {
    /** The lock file's name. */
    static final String FILE = "index.lock";
    private static final long WAIT_SECONDS = 60;
    private static final ConcurrentHashMap<Path, Holder> HOLDERS = new ConcurrentHashMap<>();

    private static final class Holder {
        final ReentrantLock lock = new ReentrantLock();
        FileChannel channel;
        FileLock fileLock;
    }

    private final Path file;
    private final Holder holder;
    private boolean closed;

    private CaFolderLock(Path file, Holder holder) {
        this.file = file;
        this.holder = holder;
    }

    /**
     * Takes the lock of the CA folder {@code caDir}, waiting up to a minute for another holder.
     *
     * @throws IOException naming the lock file when it cannot be taken in time
     */
    static CaFolderLock acquire(Path caDir) throws IOException {
        Path dir = owner(caDir);
        Path file = dir.resolve(FILE);
        Holder h = HOLDERS.computeIfAbsent(file, f -> new Holder());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        try {
            if (!h.lock.tryLock(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw busy(file);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the CA folder lock " + file, e);
        }
        if (h.lock.getHoldCount() > 1) {
            return new CaFolderLock(file, h);
        }
        try {
            h.channel = open(file);
            while ((h.fileLock = h.channel.tryLock()) == null) {
                if (System.nanoTime() > deadline) {
                    throw busy(file);
                }
                Thread.sleep(10);
            }
            return new CaFolderLock(file, h);
        } catch (IOException | RuntimeException e) {
            release(h);
            throw e;
        } catch (InterruptedException e) {
            release(h);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the CA folder lock " + file, e);
        }
    }

    private static IOException busy(Path file) {
        return new IOException("another fedlink command holds the CA folder lock " + file + " for over "
                + WAIT_SECONDS + " s: wait until it ends, then try again");
    }

    /** The folder whose lock guards {@code caDir}: its parent for a rollover's {@code previous-ca} folder. */
    static Path owner(Path caDir) throws IOException {
        Path dir = caDir.toAbsolutePath().normalize();
        if (Files.isDirectory(dir)) {
            dir = dir.toRealPath();
        }
        Path parent = dir.getParent();
        if (dir.getFileName() != null && dir.getFileName().toString().equals(CaRollover.PREVIOUS)
                && parent != null && Files.isRegularFile(parent.resolve(CaFolder.CERT_FILE))) {
            return parent;
        }
        return dir;
    }

    /** Creates the (empty) lock file of the folder {@code caDir} if it is missing. */
    static void ensureFile(Path caDir) throws IOException {
        open(caDir.resolve(FILE)).close();
    }

    private static FileChannel open(Path file) throws IOException {
        if (!Files.isDirectory(file.getParent())) {
            throw new IllegalArgumentException("'" + file.getParent() + "' is not a folder: give the CA folder made "
                    + "by 'fedlink pki ca create'");
        }
        String kind = SecureFiles.nonRegular(file);
        if (kind != null) {
            throw new IllegalArgumentException("'" + file + "' is " + kind + ": the CA folder lock must be a regular "
                    + "file; remove it");
        }
        Set<StandardOpenOption> options = Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            return FileChannel.open(file, options, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            return FileChannel.open(file, options);
        }
    }

    private static void release(Holder h) {
        try {
            if (h.fileLock != null) {
                h.fileLock.release();
            }
            if (h.channel != null) {
                h.channel.close();
            }
        } catch (IOException ignored) {
            // closing the channel releases the lock in any case
        } finally {
            h.fileLock = null;
            h.channel = null;
            h.lock.unlock();
        }
    }

    /** The lock file. */
    Path file() {
        return file;
    }

    /** Releases the lock (the file lock when the outermost holder in this thread closes). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (holder.lock.getHoldCount() > 1) {
            holder.lock.unlock();
        } else {
            release(holder);
        }
    }
}
