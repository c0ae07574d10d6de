package io.fedlink.pki.enroll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pruning {@code versions/} never follows a link: a symbolic link planted there (to a folder with files, to a file,
 * even one named like a version) is left as it is, nothing it points to is deleted, and only the files fedlink wrote
 * in its own old version folders are removed.
 */
class PartyFilesPruneTest {
    @TempDir
    Path dir;

    @Test
    void pruningDeletesNothingThroughAPlantedLink() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org")
                .create();
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("cert.pem"), "precious");
        Files.writeString(outside.resolve("notes.txt"), "precious");
        Path outsideFile = Files.writeString(dir.resolve("precious.txt"), "precious");

        PartyFiles files = new PartyFiles(dir.resolve("tls"));
        Path first = files.write(ca.issue(CertificateRequest.party("10000", "fate.org")).tlsMaterial());
        Path versions = first.getParent();
        Path toFolder = Files.createSymbolicLink(versions.resolve("20000101T000000Z-1"), outside);
        Path toFolder2 = Files.createSymbolicLink(versions.resolve("elsewhere"), outside);
        Path toFile = Files.createSymbolicLink(versions.resolve("20000101T000000Z-2"), outsideFile);
        // a real old version folder with a link inside, named like a file fedlink writes
        Path stale = Files.createDirectories(versions.resolve("20000101T000000Z-3"));
        Files.createSymbolicLink(stale.resolve(PartyFiles.KEY), outside.resolve("cert.pem"));
        Files.writeString(stale.resolve(PartyFiles.CA), "old");

        Path second = null;
        for (int i = 0; i < 3; i++) {
            TlsMaterial next = ca.issue(CertificateRequest.party("10000", "fate.org")).tlsMaterial();
            second = files.write(next);
            assertEquals(next.certificate(), files.read().certificate());
        }

        assertEquals("precious", Files.readString(outside.resolve("cert.pem")));
        assertEquals("precious", Files.readString(outside.resolve("notes.txt")));
        assertEquals("precious", Files.readString(outsideFile));
        for (Path link : List.of(toFolder, toFolder2, toFile, stale.resolve(PartyFiles.KEY))) {
            assertTrue(Files.isSymbolicLink(link), "the planted link is left as it is: " + link);
        }
        assertFalse(Files.exists(first), "the old version fedlink wrote is removed");
        assertFalse(Files.exists(stale.resolve(PartyFiles.CA)), "fedlink's own file names in an old version go");
        assertTrue(Files.exists(second.resolve(PartyFiles.KEY)));
        try (Stream<Path> s = Files.list(versions)) {
            long real = s.filter(p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).count();
            assertEquals(3, real, "the current version, the one it replaced, and the folder kept for its link");
        }
    }
}
