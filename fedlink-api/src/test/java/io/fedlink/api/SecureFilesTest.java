package io.fedlink.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Folder modes, special files, and writes as one unit. */
class SecureFilesTest {
    @TempDir
    Path dir;

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private long filesUnder(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            return s.count();
        }
    }

    @Test
    void newFoldersAre0700AndPublicFiles0644() throws Exception {
        SecureFiles.writePublic(dir.resolve("new/deeper/f.pem"), "x");
        assertEquals("rwx------", mode(dir.resolve("new")));
        assertEquals("rwx------", mode(dir.resolve("new/deeper")));
        assertEquals("rw-r--r--", mode(dir.resolve("new/deeper/f.pem")));
        SecureFiles.writePrivate(dir.resolve("new/k.pem"), "k");
        assertEquals("rw-------", mode(dir.resolve("new/k.pem")));
    }

    @Test
    void neverRenamesOverALinkOrAFolder() throws Exception {
        Path target = Files.writeString(dir.resolve("target"), "keep");
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SecureFiles.writePublic(link, "new"));
        assertEquals("'" + link + "' is a symbolic link, not a regular file: refusing to replace it; give the path of "
                + "a regular file", e.getMessage());
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("keep", Files.readString(target));
        Path devNull = Files.createSymbolicLink(dir.resolve("null"), Path.of("/dev/null"));
        assertThrows(IllegalArgumentException.class, () -> SecureFiles.writePrivate(devNull, "secret"));
        assertTrue(Files.isSymbolicLink(devNull));
        Files.createDirectory(dir.resolve("folder"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> SecureFiles.writePublic(dir.resolve("folder"), "x")).getMessage().contains("is a folder"));
    }

    @Test
    void aFailedCommitLeavesNothingNew() throws Exception {
        Path old = Files.writeString(dir.resolve("old.pem"), "old");
        long before = filesUnder(dir);
        FileSet set = new FileSet().add(dir.resolve("out/a.pem"), "a", false).add(dir.resolve("out/a-key.pem"),
                "k", true).add(old, "new", false);
        assertEquals(java.util.List.of(old), set.existing());
        assertThrows(IOException.class, () -> set.commit(() -> {
            throw new IOException("index not writable");
        }));
        assertEquals(before, filesUnder(dir), "no file or folder left behind");
        assertEquals("old", Files.readString(old));
        assertFalse(Files.exists(dir.resolve("out")));
    }
}
