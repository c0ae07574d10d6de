package io.fedlink.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one PEM codec: blocks in and out, and unencrypted PKCS#8 keys of every algorithm the JDK has. */
class PemCodecTest {
    @Test
    void blocksRoundTripWithHeadersCrlfAndSurroundingText() {
        byte[] a = new byte[100];
        byte[] b = {1, 2, 3};
        for (int i = 0; i < a.length; i++) {
            a[i] = (byte) i;
        }
        String written = PemCodec.block("CERTIFICATE", a);
        assertTrue(written.lines().allMatch(l -> l.length() <= 64), written);
        String legacy = "-----BEGIN RSA PRIVATE KEY-----\r\nProc-Type: 4,ENCRYPTED\r\nDEK-Info: AES-128-CBC,00FF\r\n"
                + "\r\nAQID\r\n-----END RSA PRIVATE KEY-----\r\n";
        List<PemCodec.Block> blocks = PemCodec.blocks("subject=CN=x\n" + written + "between\n" + legacy + "after");
        assertEquals(2, blocks.size());
        assertEquals("CERTIFICATE", blocks.get(0).type());
        assertArrayEquals(a, blocks.get(0).der());
        assertEquals(Map.of(), blocks.get(0).headers());
        assertEquals("RSA PRIVATE KEY", blocks.get(1).type());
        assertEquals(Map.of("Proc-Type", "4,ENCRYPTED", "DEK-Info", "AES-128-CBC,00FF"), blocks.get(1).headers());
        assertArrayEquals(b, blocks.get(1).der());
        assertFalse(blocks.get(1).toString().contains("AQID"));
        assertEquals(List.of(), PemCodec.blocks("no PEM here"));
    }

    @Test
    void damagedBlocksAreRefusedNamingTheBlock() {
        String cut = PemCodec.block("X509 CRL", new byte[80]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PemCodec.blocks(cut.substring(0, cut.indexOf("-----END"))));
        assertTrue(e.getMessage().contains("X509 CRL block has no '-----END X509 CRL-----' line"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> PemCodec.blocks("-----BEGIN CERTIFICATE-----\nAB!D\n-----END CERTIFICATE-----\n"));
        assertTrue(e.getMessage().contains("CERTIFICATE block holds damaged base64"), e.getMessage());
    }

    @Test
    void privateKeysOfEveryJdkAlgorithmRoundTrip() throws Exception {
        for (String alg : List.of("RSA", "EC", "Ed25519", "Ed448", "X25519", "RSASSA-PSS", "DSA")) {
            PrivateKey key = KeyPairGenerator.getInstance(alg).generateKeyPair().getPrivate();
            PrivateKey back = PemCodec.readPrivateKey(PemCodec.privateKey(key));
            assertArrayEquals(key.getEncoded(), back.getEncoded(), alg);
            assertEquals(key.getAlgorithm(), back.getAlgorithm(), alg);
        }
    }

    @Test
    void keysTheJdkCannotReadAreRefusedSayingWhatToDo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PemCodec.readPrivateKey(PemCodec.block("EC PRIVATE KEY", new byte[8])));
        assertTrue(e.getMessage().contains("openssl pkcs8 -topk8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> PemCodec.readPrivateKey(PemCodec.block("PRIVATE KEY", new byte[8])));
        assertTrue(e.getMessage().contains("none of [RSA, EC"), e.getMessage());
    }
}
