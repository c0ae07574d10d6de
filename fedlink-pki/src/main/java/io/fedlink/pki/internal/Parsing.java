package io.fedlink.pki.internal;

import io.fedlink.pki.KeyType;
import io.fedlink.pki.Profile;
import io.fedlink.pki.RevocationReason;
import java.util.Locale;

/**
 * Not API: the words the command line and the CA's index use for key types, roles and revocation reasons (an
 * embedder names the enum constants). Errors name the text and list what is accepted.
 */
public final class Parsing {
    private Parsing() {}

    /** Parses {@code ec}, {@code ec-p256}, {@code rsa-2048}, {@code ed25519} and the enum names, in any case. */
    public static KeyType keyType(String text) {
        String t = text.strip().toUpperCase(Locale.ROOT).replace('-', '_');
        return switch (t) {
            case "EC", "ECDSA", "P256", "EC_P256" -> KeyType.EC_P256;
            case "P384", "EC_P384" -> KeyType.EC_P384;
            case "P521", "EC_P521" -> KeyType.EC_P521;
            case "RSA", "RSA2048", "RSA_2048" -> KeyType.RSA_2048;
            case "RSA3072", "RSA_3072" -> KeyType.RSA_3072;
            case "RSA4096", "RSA_4096" -> KeyType.RSA_4096;
            case "ED25519" -> KeyType.ED25519;
            default -> throw new IllegalArgumentException("unknown key type '" + text
                    + "': use ec-p256, ec-p384, ec-p521, rsa-2048, rsa-3072, rsa-4096 or ed25519");
        };
    }

    /** Parses a profile (a CLI role) name, in any case. */
    public static Profile profile(String text) {
        try {
            return Profile.valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown role '" + text + "': use server, client, peer or cli");
        }
    }

    /** Parses {@code key-compromise}, {@code superseded}, ... in any case (what the index and CLI write). */
    public static RevocationReason revocationReason(String text) {
        try {
            return RevocationReason.valueOf(text.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown revocation reason '" + text + "': use unspecified, "
                    + "key-compromise, affiliation-changed, superseded or cessation-of-operation");
        }
    }
}
