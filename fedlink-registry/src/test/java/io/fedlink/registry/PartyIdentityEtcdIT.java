package io.fedlink.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CaFolder;
import io.fedlink.pki.EnrollmentAuthority;
import io.fedlink.pki.EnrollmentRefusedException;
import io.fedlink.pki.IssuedCertificate;
import io.fedlink.pki.KeyType;
import io.fedlink.pki.internal.Keys;
import io.fedlink.pki.internal.Pem;
import io.fedlink.api.TlsFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attack of issue 21 against real etcd (three members, {@code --client-cert-auth}, RBAC as the README sets it
 * up: the etcd user is the client certificate's CN). Party 10000, holding only its one-time token, asks the CA that
 * etcd trusts for {@code CN=root}: refused, nothing recorded. What it can get is its own identity,
 * {@code CN=10000.fate.org}, which is no etcd user: it cannot write party 9999's entry, list users or disable auth.
 */
class PartyIdentityEtcdIT {
    @TempDir
    Path dir;

    @Test
    void aPartyThatAskedForRootHoldsOnlyItsOwnIdentityAndCannotWriteAnotherPartysEntry() throws Exception {
        try (EtcdCluster etcd = EtcdCluster.start(dir)) {
            RegistryKeys keys = RegistryKeys.of("fl");
            String victim = keys.partyKey("9999");
            etcd.ok("operator", "put", victim, "{\"host\":\"10.0.0.3\"}");
            assertTrue(etcd.ok("root", "user", "list").contains("root"), "the root identity is etcd's root user");

            Path caDir = dir.resolve("fate-ca");
            Files.createDirectories(caDir);
            CaFolder.of(caDir, null).create(etcd.ca());
            EnrollmentAuthority authority = EnrollmentAuthority.forFolder(caDir, null, "fate.org", null);
            String token = CaFolder.of(caDir, null).createToken("10000", Duration.ofHours(1));
            String index = Files.readString(caDir.resolve("index.tsv"));

            KeyPair pair = KeyType.EC_P256.generate();
            var ownSan = new ExtensionsGenerator(); // the attack of the issue: CN=root, SAN its own name
            ownSan.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.dNSName, "10000.fate.org")));
            String asRoot = Pem.csrPem(new JcaPKCS10CertificationRequestBuilder(new X500Principal("CN=root"),
                    pair.getPublic()).addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ownSan.generate())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));
            EnrollmentRefusedException refused = assertThrows(EnrollmentRefusedException.class,
                    () -> authority.enroll(token, asRoot, null));
            assertTrue(refused.getMessage().contains("'CN=root'"), refused.getMessage());
            assertEquals(index, Files.readString(caDir.resolve("index.tsv")), "nothing recorded");

            IssuedCertificate own = authority.enroll(token, Keys.csr(pair, "10000.fate.org"), null);
            assertEquals("CN=10000.fate.org", own.certificate().getSubjectX500Principal().getName());
            TlsFiles.write(TlsMaterial.builder().identity(pair.getPrivate(), own.chain())
                    .trust(List.of(etcd.ca().root())).build(), dir.resolve("party-10000"));

            for (String[] attempt : new String[][] {{"put", victim, "{\"host\":\"6.6.6.6\"}"}, {"del", victim},
                    {"user", "list"}, {"auth", "disable"}, {"get", victim}}) {
                EtcdCluster.Result r = etcd.etcdctl("party-10000", attempt);
                assertNotEquals(0, r.code(), String.join(" ", attempt) + ": " + r.out());
                assertTrue(r.out().contains("user name not found") || r.out().contains("permission denied"),
                        r.out());
            }
            assertTrue(etcd.ok("operator", "get", victim).contains("10.0.0.3"), "9999's entry is unchanged");
        }
    }
}
