package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.PemCodec;
import io.fedlink.pki.internal.Keys;
import io.fedlink.pki.internal.Pem;
import java.io.StringWriter;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcePEMEncryptorBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The BouncyCastle forms fedlink-pki's {@link Pem} reads on top of {@link PemCodec}'s blocks: PKCS#1/SEC1 keys plain
 * and in OpenSSL's legacy encryption (written here by BouncyCastle's own writer, as {@code openssl -traditional}
 * does), encrypted PKCS#8, and CSRs.
 */
class PemTest {
    private static final char[] PW = "pem-pass".toCharArray();

    /** {@code RSA PRIVATE KEY} or {@code EC PRIVATE KEY}, optionally with Proc-Type/DEK-Info encryption. */
    private static String traditional(PrivateKey key, String cipher) throws Exception {
        if (key.getAlgorithm().equals("EC")) { // the JDK's key leaves the curve out of its SEC1 part: BC's keeps it
            key = KeyFactory.getInstance("EC", Pem.BC).generatePrivate(new PKCS8EncodedKeySpec(key.getEncoded()));
        }
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            if (cipher == null) {
                w.writeObject(key);
            } else {
                w.writeObject(key, new JcePEMEncryptorBuilder(cipher).setProvider(Pem.BC).build(PW));
            }
        }
        return out.toString();
    }

    /** The same key (a key read from SEC1 also carries its public point, so its PKCS#8 encoding differs). */
    private static void assertSameKey(PrivateKey expected, PrivateKey actual) {
        assertEquals(expected.getAlgorithm(), actual.getAlgorithm());
        if (expected instanceof ECPrivateKey ec) {
            assertEquals(ec.getS(), ((ECPrivateKey) actual).getS());
            assertEquals(ec.getParams().getCurve(), ((ECPrivateKey) actual).getParams().getCurve());
        } else {
            assertEquals(expected, actual);
        }
    }

    @ParameterizedTest
    @EnumSource(value = KeyType.class, names = {"RSA_2048", "EC_P256", "EC_P384"})
    void traditionalKeysPlainAndLegacyEncrypted(KeyType type) throws Exception {
        KeyPair pair = type.generate();
        String plain = traditional(pair.getPrivate(), null);
        assertTrue(plain.startsWith(type.name().startsWith("RSA") ? "-----BEGIN RSA PRIVATE KEY-----"
                : "-----BEGIN EC PRIVATE KEY-----"), plain.substring(0, 40));
        assertSameKey(pair.getPrivate(), Pem.privateKey(plain, null));
        for (String cipher : new String[] {"AES-256-CBC", "AES-128-CBC", "DES-EDE3-CBC"}) {
            String enc = traditional(pair.getPrivate(), cipher);
            assertTrue(enc.contains("DEK-Info: " + cipher), enc.substring(0, 120));
            assertSameKey(pair.getPrivate(), Pem.privateKey(enc, PW));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> Pem.privateKey(enc, null)).getMessage()
                    .contains("a password is needed"));
        }
    }

    /** Every wrong password is refused with the same message (never a parse error of garbage, never key bytes). */
    @ParameterizedTest
    @ValueSource(strings = {"AES-256-CBC", "DES-EDE3-CBC"})
    void wrongPasswordsSaySo(String cipher) throws Exception {
        String enc = traditional(KeyType.EC_P256.generate().getPrivate(), cipher);
        for (int i = 0; i < 40; i++) {
            char[] wrong = ("wrong-" + i).toCharArray();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pem.privateKey(enc, wrong));
            assertTrue(e.getMessage().contains("wrong password"), e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void pkcs8PlainAndEncryptedOfEveryKeyType(KeyType type) {
        PrivateKey key = type.generate().getPrivate();
        assertEquals(key, Pem.privateKey(PemCodec.privateKey(key), null));
        String enc = Pem.encryptedPkcs8(key, PW);
        assertEquals("ENCRYPTED PRIVATE KEY", PemCodec.blocks(enc).get(0).type());
        assertTrue(enc.lines().allMatch(l -> l.length() <= 64), enc);
        assertEquals(key, Pem.privateKey(enc, PW));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Pem.privateKey(enc, "nope".toCharArray()))
                .getMessage().contains("wrong password"));
    }

    @Test
    void csrsRoundTripAndOtherBlocksAreNamed() throws Exception {
        String pem = Keys.csr(KeyType.EC_P256.generate(), "10000.fate.org");
        assertEquals(pem, Pem.csrPem(Pem.csr(pem)));
        String legacyType = pem.replace("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST");
        assertEquals(Pem.csr(pem), Pem.csr(legacyType));
        String cert = PemCodec.certificates(java.util.List.of(CsrAndConstraintsTest.FATE.certificate()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pem.csr(cert));
        assertTrue(e.getMessage().contains("expected a CERTIFICATE REQUEST block, found CERTIFICATE"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Pem.csr("nothing here"));
        assertTrue(e.getMessage().contains("found nothing"), e.getMessage());
    }
}
