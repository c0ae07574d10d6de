package io.fedlink.pki.enroll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.IssuedCertificate;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A JSSE service's material follows files renewed by another process. */
class PartyFilesWatcherTest {
    @TempDir
    Path dir;

    @Test
    void followsEachNewVersion() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().commonName("fate.org CA").create();
        PartyFiles files = new PartyFiles(dir);
        files.write(ca.issue(CertificateRequest.party("10000", "fate.org")).tlsMaterial());
        ReloadableTlsMaterial live = ReloadableTlsMaterial.of(files.read());
        try (PartyFilesWatcher w = PartyFilesWatcher.start(files, live, Duration.ofMillis(20))) {
            for (int i = 1; i <= 2; i++) {
                IssuedCertificate next = ca.issue(CertificateRequest.party("10000", "fate.org"));
                files.write(next.tlsMaterial());
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (live.generation() < i && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                assertEquals(i, live.generation());
                assertEquals(next.certificate(), live.current().certificate());
            }
        }
        assertTrue(live.current().hasIdentity());
    }
}
