package io.fedlink.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.IssuedCertificate;
import io.fedlink.api.PemCodec;
import io.fedlink.api.TlsFiles;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Endpoint lists and the client TLS folder, without etcd. */
class EtcdConnectionTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"", "127.0.0.1:2379", "ftp://h:1", "http://h", "http://h:1/v3", "http://u@h:1",
        "http://h:1,https://h:2", "http://h:1,"})
    void badEndpointListsAreRefusedNamingTheValue(String endpoints) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EtcdConnection.builder().endpoints(endpoints).build());
        assertTrue(e.getMessage().contains("etcd endpoint"), e.getMessage());
    }

    @Test
    void schemeAndTlsMustAgree() throws Exception {
        IssuedCertificate c = CertificateAuthority.builder().commonName("ca").create()
                .issue(CertificateRequest.client("operator"));
        IllegalArgumentException https = assertThrows(IllegalArgumentException.class,
                () -> EtcdConnection.builder().endpoints("https://127.0.0.1:2379").build());
        assertTrue(https.getMessage().contains("--etcd-tls"), https.getMessage());
        IllegalArgumentException http = assertThrows(IllegalArgumentException.class,
                () -> EtcdConnection.builder().endpoints("http://127.0.0.1:2379").tls(c.tlsMaterial()).build());
        assertTrue(http.getMessage().contains("https://"), http.getMessage());
    }

    @Test
    void readsBothFileLayouts() throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().commonName("ca").create();
        TlsFiles.write(ca.issue(CertificateRequest.client("operator")).tlsMaterial(), dir.resolve("a"));
        assertEquals("CN=operator", EtcdConnection.readTlsDir(dir.resolve("a")).certificate()
                .getSubjectX500Principal().getName());
        Files.createDirectories(dir.resolve("b"));
        EtcdCluster.writePem(ca.issue(CertificateRequest.client("proxy-1")), dir.resolve("b"), "proxy-1");
        Files.writeString(dir.resolve("b/ca.pem"), PemCodec.certificates(List.of(ca.root())));
        TlsMaterial b = EtcdConnection.readTlsDir(dir.resolve("b"));
        assertEquals("CN=proxy-1", b.certificate().getSubjectX500Principal().getName());
        assertEquals(ca.root(), b.trustAnchors().get(0));
        EtcdCluster.writePem(ca.issue(CertificateRequest.client("other")), dir.resolve("b"), "other");
        NoSuchFileException two = assertThrows(NoSuchFileException.class,
                () -> EtcdConnection.readTlsDir(dir.resolve("b")));
        assertTrue(two.getMessage().contains("found keys for"), two.getMessage());
        NoSuchFileException none = assertThrows(NoSuchFileException.class,
                () -> EtcdConnection.readTlsDir(dir.resolve("c")));
        assertTrue(none.getMessage().contains("ca.pem"), none.getMessage());
    }
}
