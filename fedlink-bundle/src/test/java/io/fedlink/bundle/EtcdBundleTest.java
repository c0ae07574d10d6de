package io.fedlink.bundle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.pki.CertificateAuthority;
import io.fedlink.api.PemCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EtcdBundleTest {
    static final CertificateAuthority CA = CertificateAuthority.builder().commonName("etcd CA").create();

    @TempDir
    Path dir;

    @Test
    void oneCertificatePerMemberNamingItAndTheExactFlags() throws Exception {
        WrittenBundle b = EtcdBundle.builder(CA).members(3, List.of("10.0.0.1", "etcd.example"),
                        Map.of("etcd.example", "10.0.0.2"), 2379, 2380)
                .installDir(Path.of("/etc/etcd/pki")).build().write(dir);
        assertEquals(List.of("ca.pem", "etcd-0.pem", "etcd-0-key.pem", "etcd-0.flags", "etcd-1.pem",
                "etcd-1-key.pem", "etcd-1.flags", "etcd-2.pem", "etcd-2-key.pem", "etcd-2.flags", "client.pem",
                "client-key.pem", "etcdctl.flags"), b.files().stream().map(f -> f.getFileName().toString()).toList());
        X509Certificate m0 = PemCodec.readCertificate(Files.readString(b.file("etcd-0.pem")));
        assertEquals("[etcd-0, 10.0.0.1]", m0.getSubjectAlternativeNames().stream().map(l -> l.get(1)).toList()
                .toString());
        assertEquals("[etcd-2, etcd.example]", PemCodec.readCertificate(Files.readString(b.file("etcd-2.pem")))
                .getSubjectAlternativeNames().stream().map(l -> l.get(1)).toList().toString());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                b.file("etcd-1-key.pem"))));
        assertEquals(String.join("\n",
                "--name=etcd-2",
                "--listen-client-urls=https://10.0.0.2:2381",
                "--advertise-client-urls=https://etcd.example:2381",
                "--listen-peer-urls=https://10.0.0.2:2382",
                "--initial-advertise-peer-urls=https://etcd.example:2382",
                "--initial-cluster=etcd-0=https://10.0.0.1:2380,etcd-1=https://etcd.example:2380,"
                        + "etcd-2=https://etcd.example:2382",
                "--initial-cluster-state=new", "--initial-cluster-token=fedlink-etcd",
                "--cert-file=/etc/etcd/pki/etcd-2.pem", "--key-file=/etc/etcd/pki/etcd-2-key.pem",
                "--trusted-ca-file=/etc/etcd/pki/ca.pem", "--client-cert-auth",
                "--peer-cert-file=/etc/etcd/pki/etcd-2.pem", "--peer-key-file=/etc/etcd/pki/etcd-2-key.pem",
                "--peer-trusted-ca-file=/etc/etcd/pki/ca.pem", "--peer-client-cert-auth", ""),
                Files.readString(b.file("etcd-2.flags")));
        assertEquals("--endpoints=https://10.0.0.1:2379,https://etcd.example:2379,https://etcd.example:2381\n"
                + "--cacert=/etc/etcd/pki/ca.pem\n--cert=/etc/etcd/pki/client.pem\n"
                + "--key=/etc/etcd/pki/client-key.pem\n",
                Files.readString(b.file("etcdctl.flags")));
    }

    @Test
    void refusesClashesAndEmptyClusters() {
        assertEquals("two ports on 127.0.0.1:2379 (member etcd-1): give members on one host different ports",
                assertThrows(IllegalArgumentException.class, () -> EtcdBundle.builder(CA)
                        .member("etcd-0", "127.0.0.1", 2379, 2380).member("etcd-1", "127.0.0.1", 2379, 2390).build())
                        .getMessage());
        assertEquals("member name etcd-0 is used twice", assertThrows(IllegalArgumentException.class,
                () -> EtcdBundle.builder(CA).member("etcd-0", "a.example", "10.0.0.1", 1, 2)
                        .member("etcd-0", "b.example", "10.0.0.2", 1, 2)
                        .build()).getMessage());
        assertEquals("two ports on 10.0.0.9:2379 (member etcd-1): give members on one host different ports",
                assertThrows(IllegalArgumentException.class, () -> EtcdBundle.builder(CA)
                        .member("etcd-0", "a.example", "10.0.0.9", 2379, 2380)
                        .member("etcd-1", "b.example", "10.0.0.9", 2379, 2390).build()).getMessage());
        assertThrows(IllegalArgumentException.class, () -> EtcdBundle.builder(CA).build());
        assertThrows(IllegalArgumentException.class, () -> EtcdBundle.builder(CA).members(0, List.of(), Map.of(), 2379, 2380));
    }

    @Test
    void listensOnTheHostIpOrTheGivenAddressNeverSilentlyOnEveryInterface() throws Exception {
        String name = "member etcd-1: host etcd.example is a name and etcd listens on IP addresses: give the "
                + "member's listen address (--listen-address etcd.example=IP; 0.0.0.0 or :: for every interface)";
        assertEquals(name, assertThrows(IllegalArgumentException.class, () -> EtcdBundle.builder(CA)
                .member("etcd-1", "etcd.example", 2379, 2380)).getMessage());
        assertEquals(name, assertThrows(IllegalArgumentException.class, () -> EtcdBundle.builder(CA)
                .members(2, List.of("10.0.0.1", "etcd.example"), Map.of(), 2379, 2380)).getMessage());
        assertEquals("member etcd-0: listen address etcd.example is not an IP address (host 10.0.0.1)",
                assertThrows(IllegalArgumentException.class, () -> EtcdBundle.builder(CA)
                        .member("etcd-0", "10.0.0.1", "etcd.example", 2379, 2380)).getMessage());
        assertEquals("--listen-address other.example=10.0.0.2: no member runs on other.example (hosts: [10.0.0.1, "
                + "etcd.example])", assertThrows(IllegalArgumentException.class, () -> EtcdBundle.builder(CA)
                .members(2, List.of("10.0.0.1", "etcd.example"), Map.of("other.example", "10.0.0.2",
                        "etcd.example", "10.0.0.3"), 2379, 2380)).getMessage());

        WrittenBundle b = EtcdBundle.builder(CA).member("etcd-0", "10.0.0.1", 2379, 2380)
                .member("etcd-1", "etcd.example", "0.0.0.0", 2379, 2380)
                .member("etcd-2", "etcd6.example", "::", 2379, 2380).build().write(dir);
        String ip = Files.readString(b.file("etcd-0.flags"));
        assertTrue(ip.contains("\n--listen-client-urls=https://10.0.0.1:2379\n"), ip);
        String any = Files.readString(b.file("etcd-1.flags"));
        assertTrue(any.contains("\n--listen-client-urls=https://0.0.0.0:2379\n--advertise-client-urls="
                + "https://etcd.example:2379\n--listen-peer-urls=https://0.0.0.0:2380\n"), any);
        String six = Files.readString(b.file("etcd-2.flags"));
        assertTrue(six.contains("\n--listen-client-urls=https://[::]:2379\n"), six);
    }
}
