package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.fedlink.api.PemCodec;
import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.enroll.EnrollmentClient;
import io.fedlink.pki.enroll.EnrollmentServer;
import io.fedlink.pki.enroll.PartyFiles;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.Security;
import java.time.Duration;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An embedder's JVM often has Bouncy Castle registered as a JCA provider: the Pulsar client registers it when it
 * loads. Then Bouncy Castle's PEM converter makes EC keys of algorithm {@code ECDSA} (not {@code EC}), and a key
 * manager that offered its identity only for {@code EC} sent no client certificate: every renewal was refused ("a
 * renewal needs the party's current certificate") as soon as a Pulsar client had started in the same JVM. Found by
 * {@code CertificateRenewalIT}.
 */
class BouncyCastleRegisteredTest {
    @TempDir
    Path dir;
    EnrollmentServer server;
    boolean registeredHere;

    @BeforeEach
    void registerBouncyCastle() {
        registeredHere = Security.getProvider(BouncyCastleProvider.PROVIDER_NAME) == null;
        if (registeredHere) {
            Security.addProvider(new BouncyCastleProvider()); // as Pulsar's SecurityUtility does
        }
    }

    @AfterEach
    void unregister() {
        if (server != null) {
            server.close();
        }
        if (registeredHere) {
            Security.removeProvider(BouncyCastleProvider.PROVIDER_NAME);
        }
    }

    @Test
    void aPartyRenewsWhileBouncyCastleIsRegistered() throws Exception {
        Path caDir = dir.resolve("ca");
        CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org").permitIp("127.0.0.0/8")
                .create().saveNew(caDir, null);
        EnrollmentAuthority authority = EnrollmentAuthority.forFolder(caDir, null, EnrollmentPolicy.of("fate.org"));
        server = EnrollmentServer.start(authority, CertificateRequest.server("ca.fate.org").ip("127.0.0.1").days(1),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), EnrollmentServer.Limits.DEFAULT);
        EnrollmentClient client = new EnrollmentClient(URI.create("https://127.0.0.1:" + server.address().getPort()));
        TlsMaterial trust = TlsMaterial.builder().trust(PemCodec.readCertificates(
                Files.readString(caDir.resolve("ca.pem")))).build();
        PartyFiles files = new PartyFiles(dir.resolve("10000"));
        files.write(client.enroll(trust, CaFolder.of(caDir, null).createToken("10000", Duration.ofMinutes(5)),
                "10000", "fate.org", KeyType.EC_P256, null));

        TlsMaterial current = files.read();
        assertEquals("EC", current.privateKey().getAlgorithm(), "a PEM key is read as the JDK's key");
        TlsMaterial renewed = client.renew(current, Duration.ofHours(1)); // refused before: no client certificate
        assertNotEquals(current.certificate().getSerialNumber(), renewed.certificate().getSerialNumber());
    }

    @Test
    void anEcdsaNamedKeyIsOfferedForEc() throws Exception {
        IssuedCertificate issued = CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org")
                .create().issue(CertificateRequest.party("10000", "fate.org"));
        PrivateKey bc = new JcaPEMKeyConverter().setProvider(BouncyCastleProvider.PROVIDER_NAME)
                .getPrivateKey(PrivateKeyInfo.getInstance(issued.privateKey().getEncoded()));
        assertEquals("ECDSA", bc.getAlgorithm());
        TlsMaterial m = TlsMaterial.builder().identity(bc, issued.chain()).trust(issued.chain()).build();
        assertNotNull(m.keyManager().chooseClientAlias(new String[] {"EC"}, null, null));
        assertNotNull(m.keyManager().chooseServerAlias("EC", null, null));
    }
}
