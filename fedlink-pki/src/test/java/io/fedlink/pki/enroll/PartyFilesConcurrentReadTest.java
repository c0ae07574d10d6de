package io.fedlink.pki.enroll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PartyFiles#read()} while a renewer switches {@code current}: the key, certificate and CA file must come from
 * one version. Reading each through the link let a switch in between pair a new certificate with the old key ("the
 * key does not match"): a Pulsar test reading the other party's files during renewals could fail that way.
 */
class PartyFilesConcurrentReadTest {
    @TempDir
    Path dir;

    @Test
    void aReaderNeverMixesTwoVersions() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org")
                .create();
        List<TlsMaterial> versions = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            versions.add(ca.issue(CertificateRequest.party("10000", "fate.org")).tlsMaterial());
        }
        PartyFiles files = new PartyFiles(dir.resolve("tls"));
        files.write(versions.get(0));
        AtomicBoolean done = new AtomicBoolean();
        AtomicLong reads = new AtomicLong();
        AtomicLong failures = new AtomicLong();
        AtomicReference<Throwable> first = new AtomicReference<>();
        Runnable readLoop = () -> {
            while (!done.get()) {
                try {
                    TlsMaterial m = files.read();
                    // the builder checked that the key matches the certificate
                    assertTrue(versions.stream().anyMatch(v -> v.certificate().equals(m.certificate())));
                    reads.incrementAndGet();
                } catch (Throwable t) {
                    failures.incrementAndGet();
                    first.compareAndSet(null, t);
                }
            }
        };
        Thread reader = new Thread(readLoop);
        Thread reader2 = new Thread(readLoop);
        reader.start();
        reader2.start();
        for (TlsMaterial v : versions.subList(1, versions.size())) {
            files.write(v);
        }
        done.set(true);
        reader.join(30_000);
        reader2.join(30_000);
        System.out.println("PartyFiles concurrent reads: " + reads.get() + " ok, " + failures.get() + " failed");
        assertTrue(reads.get() > 0);
        assertEquals(0, failures.get(), failures.get() + " of " + (reads.get() + failures.get())
                + " reads failed, first: " + first.get());
    }
}
