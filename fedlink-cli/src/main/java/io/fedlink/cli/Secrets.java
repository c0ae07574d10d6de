package io.fedlink.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads passwords from files (never from the command line, where other users can see them). */
final class Secrets {
    private Secrets() {}

    /** The first line of {@code file}, or {@code null} when no file was given. */
    static char[] read(Path file) throws IOException {
        if (file == null) {
            return null;
        }
        String s = Files.readString(file, StandardCharsets.UTF_8);
        int nl = s.indexOf('\n');
        String line = (nl < 0 ? s : s.substring(0, nl)).strip();
        if (line.isEmpty()) {
            throw new IllegalArgumentException("password file " + file + " is empty");
        }
        return line.toCharArray();
    }
}
