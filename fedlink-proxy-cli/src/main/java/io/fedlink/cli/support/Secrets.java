package io.fedlink.cli.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Reads passwords from files (never from the command line, where other users can see them). The file must not be
 * readable by group or others; its content is the password exactly, spaces included, less one trailing newline.
 */
public final class Secrets {
    private Secrets() {}

    /**
     * The admin token in {@code file}: as {@link #read}, but the file must be mode 0600 or stricter (no permission
     * at all for group or others: a token file others may write lets them choose the token).
     */
    public static byte[] readToken(Path file) throws IOException {
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            if (!PosixFilePermissions.fromString("rw-------").containsAll(mode)) {
                throw new IllegalArgumentException("token file '" + file + "' is open to other users (mode "
                        + PosixFilePermissions.toString(mode) + "): run chmod 600 " + file);
            }
        } catch (UnsupportedOperationException | NoSuchFileException e) {
            // not a POSIX file system, or missing: read() says so
        }
        char[] token = read(file);
        return new String(token).getBytes(StandardCharsets.UTF_8);
    }

    /** The password in {@code file}, or {@code null} when no file was given. */
    public static char[] read(Path file) throws IOException {
        if (file == null) {
            return null;
        }
        if (!Files.exists(file)) {
            throw new IllegalArgumentException("password file '" + file + "' not found: create it with the password "
                    + "on one line (chmod 600), or fix the path");
        }
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            if (mode.contains(PosixFilePermission.GROUP_READ) || mode.contains(PosixFilePermission.OTHERS_READ)) {
                throw new IllegalArgumentException("password file '" + file + "' is readable by other users (mode "
                        + PosixFilePermissions.toString(mode) + "): run chmod 600 " + file);
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: nothing to check
        }
        String s = Files.readString(file, StandardCharsets.UTF_8);
        s = s.endsWith("\r\n") ? s.substring(0, s.length() - 2) : s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
        if (s.isEmpty()) {
            throw new IllegalArgumentException("password file '" + file + "' is empty: put the password in it");
        }
        if (s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("password file '" + file + "' holds more than one line: keep only the "
                    + "password (one trailing newline is allowed)");
        }
        return s.toCharArray();
    }
}
