package io.fedlink.pki;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Writes files the way key material must be written: atomically (a temporary file in the same folder, then a
 * rename, so a reader never sees half a key), private files with mode 0600 from the first byte, and folders that
 * hold them with mode 0700. On file systems without POSIX permissions the modes are skipped.
 */
public final class SecureFiles {
    private static final Set<PosixFilePermission> OWNER_RW = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_RWX = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> PUBLIC_R = PosixFilePermissions.fromString("rw-r--r--");

    private SecureFiles() {}

    /** Creates {@code dir} (and parents) if missing and sets it to 0700. */
    public static Path privateDirectory(Path dir) throws IOException {
        Files.createDirectories(dir);
        setPermissions(dir, OWNER_RWX);
        return dir;
    }

    /** Writes a secret (private key, password, key store) atomically with mode 0600. */
    public static void writePrivate(Path file, byte[] content) throws IOException {
        write(file, content, OWNER_RW);
    }

    /** Writes a secret text file atomically with mode 0600. */
    public static void writePrivate(Path file, String content) throws IOException {
        writePrivate(file, content.getBytes(StandardCharsets.US_ASCII));
    }

    /** Writes a public file (certificates, CRLs) atomically with mode 0644. */
    public static void writePublic(Path file, String content) throws IOException {
        write(file, content.getBytes(StandardCharsets.US_ASCII), PUBLIC_R);
    }

    /** Writes a public binary file atomically with mode 0644. */
    public static void writePublic(Path file, byte[] content) throws IOException {
        write(file, content, PUBLIC_R);
    }

    private static void write(Path file, byte[] content, Set<PosixFilePermission> mode) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp;
        try {
            tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp",
                    PosixFilePermissions.asFileAttribute(OWNER_RW));
        } catch (UnsupportedOperationException e) {
            tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        }
        try {
            Files.write(tmp, content);
            setPermissions(tmp, mode);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Writes only if the file does not exist yet, refusing to overwrite. */
    public static void writePrivateNew(Path file, byte[] content) throws IOException {
        if (Files.exists(file)) {
            throw new FileAlreadyExistsException(file.toString(), null, "refusing to overwrite a private key");
        }
        writePrivate(file, content);
    }

    private static void setPermissions(Path p, Set<PosixFilePermission> mode) throws IOException {
        try {
            Files.setPosixFilePermissions(p, mode);
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
    }
}
