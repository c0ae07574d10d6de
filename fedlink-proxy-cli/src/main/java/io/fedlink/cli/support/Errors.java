package io.fedlink.cli.support;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/** Turns a refusal into the one line the CLI prints: the value at fault and what to do, no Java class names. */
public final class Errors {
    private Errors() {}

    /** The line for {@code e}, or {@code null} when {@code e} is a bug (shown with its stack trace). */
    public static String message(Exception e) {
        if (e instanceof NoSuchFileException f) {
            return "'" + f.getFile() + "' not found: check the path (relative paths start in "
                    + Path.of("").toAbsolutePath() + ")";
        }
        if (e instanceof AccessDeniedException f) {
            return "'" + f.getFile() + "': permission denied: check the file's owner and mode";
        }
        if (e instanceof FileAlreadyExistsException f) {
            return "'" + f.getFile() + "' already exists: remove it or choose another path";
        }
        if (e instanceof FileSystemException f) {
            return "'" + f.getFile() + "': " + (f.getReason() != null ? f.getReason() : "cannot be used");
        }
        if (e instanceof IOException || e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
            return e.getMessage() + yamlPlace(e);
        }
        return null;
    }

    /** " (line L, column C: problem)" when a YAML parser's error is among the causes. */
    private static String yamlPlace(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof MarkedYAMLException y && y.getProblemMark() != null) {
                Mark m = y.getProblemMark();
                return " (line " + (m.getLine() + 1) + ", column " + (m.getColumn() + 1) + ": " + y.getProblem() + ")";
            }
        }
        return "";
    }
}
