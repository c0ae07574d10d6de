package io.fedlink.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * Files written as one unit: every target is checked when added (only regular files are ever replaced), then
 * {@link #commit} writes each to a temporary file beside its target, runs a step (saving the CA index), and renames
 * them into place. If anything fails, the temporary files, the files already renamed that did not exist before and
 * the folders it created are removed, so a failed operation leaves nothing new behind.
 */
public final class FileSet {
    /** A step of a commit that may fail with an I/O error. */
    @FunctionalInterface
    public interface Step {
        /** Runs the step. */
        void run() throws IOException;
    }

    /** A step that does nothing. */
    public static final Step NOTHING = () -> { };

    private record Entry(Path target, byte[] content, Set<PosixFilePermission> mode, boolean existed) {}

    private final List<Entry> entries = new ArrayList<>();

    /**
     * Adds a file. Secret files (keys, key stores) get mode 0600, others 0644.
     *
     * @throws IllegalArgumentException if {@code target} exists and is not a regular file
     */
    public FileSet add(Path target, byte[] content, boolean secret) {
        requireReplaceable(target);
        entries.add(new Entry(target, content.clone(), secret ? SecureFiles.OWNER_RW : SecureFiles.PUBLIC_R,
                Files.exists(target)));
        return this;
    }

    /** Adds a text file (US-ASCII, as PEM is). */
    public FileSet add(Path target, String text, boolean secret) {
        return add(target, text.getBytes(StandardCharsets.US_ASCII), secret);
    }

    /** The targets that already exist and would be replaced. */
    public List<Path> existing() {
        return entries.stream().filter(Entry::existed).map(Entry::target).toList();
    }

    /** The targets, in the order added. */
    public List<Path> targets() {
        return entries.stream().map(Entry::target).toList();
    }

    private static void requireReplaceable(Path target) {
        String kind = SecureFiles.nonRegular(target);
        if (kind != null) {
            throw new IllegalArgumentException("'" + target + "' is " + kind + ", not a regular file: refusing to "
                    + "replace it; give the path of a regular file");
        }
    }

    /** Writes the temporary files, runs {@code step}, then renames every file into place; all or nothing. */
    public void commit(Step step) throws IOException {
        List<Path> createdDirs = new ArrayList<>();
        List<Path> temps = new ArrayList<>();
        List<Path> placed = new ArrayList<>();
        try {
            for (Entry e : entries) {
                Path dir = e.target().toAbsolutePath().getParent();
                createdDirs.addAll(SecureFiles.privateDirectory(dir));
                temps.add(temp(dir, e));
            }
            step.run();
            for (int i = 0; i < entries.size(); i++) {
                Entry e = entries.get(i);
                requireReplaceable(e.target());
                move(temps.get(i), e.target());
                placed.add(e.target());
            }
        } catch (IOException | RuntimeException | Error failure) {
            for (Path t : temps) {
                Files.deleteIfExists(t);
            }
            for (Entry e : entries) {
                if (!e.existed() && placed.contains(e.target())) {
                    Files.deleteIfExists(e.target());
                }
            }
            Collections.reverse(createdDirs);
            for (Path d : createdDirs) {
                try {
                    Files.deleteIfExists(d);
                } catch (java.nio.file.DirectoryNotEmptyException kept) {
                    // someone else's file is in it now
                }
            }
            throw failure;
        }
    }

    private static Path temp(Path dir, Entry e) throws IOException {
        Path tmp;
        try {
            tmp = Files.createTempFile(dir, "." + e.target().getFileName(), ".tmp",
                    PosixFilePermissions.asFileAttribute(SecureFiles.OWNER_RW));
        } catch (UnsupportedOperationException unsupported) {
            tmp = Files.createTempFile(dir, "." + e.target().getFileName(), ".tmp");
        }
        try {
            Files.write(tmp, e.content());
            SecureFiles.setPermissions(tmp, e.mode());
            return tmp;
        } catch (IOException | RuntimeException failure) {
            Files.deleteIfExists(tmp);
            throw failure;
        }
    }

    private static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
