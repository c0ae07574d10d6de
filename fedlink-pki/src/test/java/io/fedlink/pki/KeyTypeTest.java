package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.pki.internal.Keys;
import io.fedlink.pki.internal.Pem;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.spec.ECGenParameterSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The key policy: each accepted key is recorded as what it really is; every other key is refused by name. */
class KeyTypeTest {
    static PublicKey ec(String curve) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC", Pem.BC);
        g.initialize(new ECGenParameterSpec(curve));
        return g.generateKeyPair().getPublic();
    }

    static PublicKey rsa(int bits) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(bits);
        return g.generateKeyPair().getPublic();
    }

    @Test
    void acceptedKeysAreRecordedAsTheyAre() throws Exception {
        assertEquals(KeyType.EC_P256, Keys.of(ec("secp256r1")));
        assertEquals(KeyType.EC_P384, Keys.of(ec("secp384r1")));
        assertEquals(KeyType.EC_P521, Keys.of(ec("secp521r1")), "P-521 is not filed as P-256 or P-384");
        assertEquals("EC P-521", Keys.describe(ec("secp521r1")));
        assertEquals(KeyType.EC_P521, Keys.of(KeyType.EC_P521.generate().getPublic()));
        assertEquals(KeyType.ED25519, Keys.of(KeyType.ED25519.generate().getPublic()));
        assertEquals("RSA 3072", Keys.describe(rsa(3072)));
        assertEquals(KeyType.RSA_2048, Keys.of(rsa(2048)));
        assertEquals(KeyType.EC_P521, io.fedlink.pki.internal.Parsing.keyType("ec-p521"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"secp112r1", "secp160r1", "secp256k1", "brainpoolP256r1", "secp224r1", "prime239v1"})
    void otherCurvesAreRefusedListingWhatIsAccepted(String curve) throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Keys.of(ec(curve)));
        assertTrue(e.getMessage().contains(curve) && e.getMessage().contains(KeyType.ACCEPTED), e.getMessage());
    }

    @Test
    void ed448AndRsaOutsideTheRangeAreRefused() throws Exception {
        PublicKey ed448 = KeyPairGenerator.getInstance("Ed448").generateKeyPair().getPublic();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Keys.of(ed448)).getMessage()
                .contains("Ed448"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Keys.of(rsa(1024))).getMessage()
                .contains("RSA 1024"));
    }
}
