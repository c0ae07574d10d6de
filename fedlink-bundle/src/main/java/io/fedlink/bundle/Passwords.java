package io.fedlink.bundle;

import io.fedlink.api.SecureFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Set;

/**
 * Key store passwords: generated (24 random bytes, 32 URL-safe characters) or read from a file the owner alone may
 * read. A password file that its group or others can read is refused, since its secret is already shared.
 */
public final class Passwords {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<PosixFilePermission> SHARED = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.OTHERS_READ);

    private Passwords() {}

    /** A fresh random password of 32 URL-safe Base64 characters. */
    public static char[] generate() {
        byte[] raw = new byte[24];
        RANDOM.nextBytes(raw);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw).toCharArray();
    }

    /**
     * The first line of {@code file}, trimmed.
     *
     * @throws IllegalArgumentException if the file is missing, empty, or readable by its group or others
     */
    public static char[] read(Path file) throws IOException {
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
            if (mode.stream().anyMatch(SHARED::contains)) {
                throw new IllegalArgumentException("password file " + file + " is readable by its group or others ("
                        + PosixFilePermissions.toString(mode) + "): run 'chmod 600 " + file + "' first");
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: nothing to check
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("password file " + file + " does not exist");
        }
        String s = Files.readString(file, StandardCharsets.UTF_8);
        int nl = s.indexOf('\n');
        String line = (nl < 0 ? s : s.substring(0, nl)).strip();
        if (line.isEmpty()) {
            throw new IllegalArgumentException("password file " + file + " is empty: put the password on its first "
                    + "line");
        }
        return line.toCharArray();
    }

    /** Reads {@code file} when given, else generates a password. */
    public static char[] readOrGenerate(Path file) throws IOException {
        return file == null ? generate() : read(file);
    }

    /** Writes {@code password} and a newline to {@code file} with mode 0600. */
    public static void write(Path file, char[] password) throws IOException {
        SecureFiles.writePrivate(file, line(password));
    }

    /** {@code password} and a newline, as a password file holds them. */
    static byte[] line(char[] password) {
        return (new String(password) + "\n").getBytes(StandardCharsets.UTF_8);
    }
}
