package io.fedlink.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Writes files the way key material must be written: atomically (a temporary file in the same folder, then a
 * rename, so a reader never sees half a key), private files with mode 0600 from the first byte, and new folders that
 * hold them with mode 0700 (existing folders keep their modes). Only regular files are ever replaced: a symbolic
 * link, device, pipe or folder in the way is refused, so {@code /dev/stdout} is never renamed over. On file systems
 * without POSIX permissions the modes are skipped. {@link FileSet} writes several files as one unit.
 */
public final class SecureFiles {
    static final Set<PosixFilePermission> OWNER_RW = PosixFilePermissions.fromString("rw-------");
    static final Set<PosixFilePermission> PUBLIC_R = PosixFilePermissions.fromString("rw-r--r--");
    private static final Set<PosixFilePermission> OWNER_RWX = PosixFilePermissions.fromString("rwx------");

    private SecureFiles() {}

    /**
     * Creates {@code dir} (and missing parents) with mode 0700 if it does not exist; an existing folder keeps its
     * mode. Returns the folders it created, outermost first.
     *
     * @throws IllegalArgumentException if {@code dir} is a dangling symbolic link or not a folder
     */
    public static List<Path> privateDirectory(Path dir) throws IOException {
        requireNotDangling(dir);
        List<Path> missing = new ArrayList<>();
        for (Path p = dir.toAbsolutePath(); p != null && !Files.exists(p); p = p.getParent()) {
            requireNotDangling(p);
            missing.add(0, p);
        }
        for (Path p : missing) {
            try {
                Files.createDirectory(p, PosixFilePermissions.asFileAttribute(OWNER_RWX));
            } catch (UnsupportedOperationException e) {
                Files.createDirectory(p);
            } catch (FileAlreadyExistsException e) {
                continue; // made by someone else meanwhile: theirs, not ours
            }
            setPermissions(p, OWNER_RWX); // the umask may have narrowed nothing, but never widen
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("'" + dir + "' is not a folder: give a folder's path");
        }
        return missing;
    }

    /**
     * Refuses a symbolic link whose target does not exist, explaining it (a bare "file exists" or "not found" would
     * not).
     */
    public static void requireNotDangling(Path p) throws IOException {
        if (Files.isSymbolicLink(p) && !Files.exists(p)) {
            throw new IllegalArgumentException("'" + p + "' is a symbolic link to '" + Files.readSymbolicLink(p)
                    + "', which does not exist: create the target or remove the link");
        }
    }

    /**
     * What {@code p} is when it exists and is not a regular file ("a symbolic link", "a folder", "a device, pipe or
     * socket"), or {@code null} when it is a regular file or absent.
     */
    public static String nonRegular(Path p) {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS) || Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        if (Files.isSymbolicLink(p)) {
            return "a symbolic link";
        }
        return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "a folder" : "a device, pipe or socket";
    }

    /** Writes a secret (private key, password, key store) atomically with mode 0600. */
    public static void writePrivate(Path file, byte[] content) throws IOException {
        new FileSet().add(file, content, true).commit(FileSet.NOTHING);
    }

    /** Writes a secret text file atomically with mode 0600. */
    public static void writePrivate(Path file, String content) throws IOException {
        writePrivate(file, content.getBytes(StandardCharsets.US_ASCII));
    }

    /** Writes a public file (certificates, CRLs) atomically with mode 0644. */
    public static void writePublic(Path file, String content) throws IOException {
        writePublic(file, content.getBytes(StandardCharsets.US_ASCII));
    }

    /** Writes a public binary file atomically with mode 0644. */
    public static void writePublic(Path file, byte[] content) throws IOException {
        new FileSet().add(file, content, false).commit(FileSet.NOTHING);
    }

    static void setPermissions(Path p, Set<PosixFilePermission> mode) throws IOException {
        try {
            Files.setPosixFilePermissions(p, mode);
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
    }
}
