package io.fedlink.pki;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A fresh CA folder for {@code fate.org} and an enrollment authority on it (1-hour certificates), per test. */
abstract class EnrollmentFixture {
    @TempDir
    Path dir;
    CertificateAuthority ca;
    EnrollmentAuthority authority;

    @BeforeEach
    void makeCa() throws IOException {
        ca = CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org").create();
        ca.saveNew(dir, null);
        authority = new EnrollmentAuthority(ca, dir, EnrollmentPolicy.of("fate.org").withMaxLifetime(Duration.ofHours(1)));
    }
}
