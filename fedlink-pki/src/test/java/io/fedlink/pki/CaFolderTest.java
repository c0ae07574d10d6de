package io.fedlink.pki;

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

/** The CA folder: modes kept, dangling links explained, never overwritten by a new CA. */
class CaFolderTest {
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
    void saveKeepsAnExistingFoldersMode() throws Exception {
        Path shared = Files.createDirectory(dir.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        CertificateAuthority.builder().create().save(shared, null);
        assertEquals("rwxrwxrwx", mode(shared));
        assertEquals("rw-------", mode(shared.resolve("ca-key.pem")));
    }

    @Test
    void aDanglingLinkIsExplained() throws Exception {
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("nowhere"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CertificateAuthority.builder().create().saveNew(dangling, null));
        assertEquals("'" + dangling + "' is a symbolic link to '" + dir.resolve("nowhere") + "', which does not exist: "
                + "create the target or remove the link", e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CertificateAuthority.load(dangling))
                .getMessage().contains("which does not exist"));
    }

    @Test
    void saveNewRefusesWhenAnyCaFileExists() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().create();
        ca.saveNew(dir, null);
        String cert = Files.readString(dir.resolve("ca.pem"));
        Files.delete(dir.resolve("ca-key.pem"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CertificateAuthority.builder().create().saveNew(dir, null));
        assertEquals("'" + dir + "' already holds CA files [ca.pem, index.tsv]: refusing to overwrite a CA; choose "
                + "another folder", e.getMessage());
        assertEquals(cert, Files.readString(dir.resolve("ca.pem")));
        assertFalse(Files.exists(dir.resolve("ca-key.pem")));
    }
}
