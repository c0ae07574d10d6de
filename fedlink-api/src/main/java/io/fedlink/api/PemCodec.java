package io.fedlink.api;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CRLException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEM text for everything the JDK alone can read and write: certificates and chains, CRLs, unencrypted PKCS#8
 * private keys, and any block by type ({@link #block}, {@link #blocks}). The one PEM codec of fedlink: the armour and
 * base64 of every PEM file fedlink reads or writes go through here; fedlink-pki's {@code Pem} adds only what needs
 * BouncyCastle (encrypted keys, PKCS#1/SEC1 keys, CSRs) on top of these blocks.
 */
public final class PemCodec {
    /** Key algorithms {@link #decodePrivateKey} tries, in order (the JDK's key factory names). */
    private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC", "EdDSA", "RSASSA-PSS", "XDH", "DSA");
    private static final Pattern BEGIN = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----");

    private PemCodec() {}

    /**
     * One PEM block: its type (the words after {@code BEGIN}), its RFC 1421 headers (such as OpenSSL's
     * {@code Proc-Type} and {@code DEK-Info} of a legacy encrypted key; usually none) and its decoded bytes.
     * {@link #toString()} shows the type and size only, never the bytes.
     *
     * @param type    the block type, for example {@code CERTIFICATE}
     * @param headers header names to values, in order
     * @param der     the decoded content
     */
    public record Block(String type, Map<String, String> headers, byte[] der) {
        @Override
        public String toString() {
            return type + " block (" + der.length + " bytes)";
        }
    }

    /** One PEM block with 64-column base64 and a trailing newline. */
    public static String block(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /** PEM blocks ({@code BEGIN CERTIFICATE}) for these certificates, in order. */
    public static String certificates(List<X509Certificate> certs) {
        StringBuilder sb = new StringBuilder();
        for (X509Certificate c : certs) {
            try {
                sb.append(block("CERTIFICATE", c.getEncoded()));
            } catch (CertificateEncodingException e) {
                throw new IllegalStateException("cannot encode certificate " + c.getSubjectX500Principal(), e);
            }
        }
        return sb.toString();
    }

    /** A private key as unencrypted PKCS#8 PEM ({@code BEGIN PRIVATE KEY}); the DER copy is wiped afterwards. */
    public static String privateKey(PrivateKey key) {
        byte[] der = key.getEncoded();
        try {
            return block("PRIVATE KEY", der);
        } finally {
            Arrays.fill(der, (byte) 0);
        }
    }

    /** A CRL as PEM ({@code BEGIN X509 CRL}). */
    public static String crl(X509CRL crl) {
        try {
            return block("X509 CRL", crl.getEncoded());
        } catch (CRLException e) {
            throw new IllegalStateException("cannot encode the CRL of " + crl.getIssuerX500Principal(), e);
        }
    }

    /**
     * Every PEM block in the text, in order; text around the blocks (comments, {@code openssl -text} output) is
     * skipped, and both LF and CRLF line ends are read.
     *
     * @throws IllegalArgumentException naming the block type if a block has no matching END line or damaged base64
     */
    public static List<Block> blocks(String pem) {
        List<Block> out = new ArrayList<>();
        Matcher begin = BEGIN.matcher(pem);
        int from = 0;
        while (begin.find(from)) {
            String type = begin.group(1);
            String end = "-----END " + type + "-----";
            int endAt = pem.indexOf(end, begin.end());
            if (endAt < 0) {
                throw new IllegalArgumentException("the " + type + " block has no '" + end + "' line: is the file cut"
                        + " short?");
            }
            Map<String, String> headers = new LinkedHashMap<>();
            StringBuilder base64 = new StringBuilder();
            for (String line : pem.substring(begin.end(), endAt).split("\\r?\\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && base64.length() == 0) {
                    headers.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
                } else {
                    base64.append(line.strip());
                }
            }
            try {
                out.add(new Block(type, Map.copyOf(headers), Base64.getDecoder().decode(base64.toString())));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the " + type + " block holds damaged base64: " + e.getMessage(),
                        e);
            }
            from = endAt + end.length();
        }
        return out;
    }

    /**
     * The first unencrypted PKCS#8 private key ({@code BEGIN PRIVATE KEY}) in the text, as the JDK's own key object.
     *
     * @throws IllegalArgumentException if there is no such block or its key is not one the JDK reads; encrypted and
     *                                  PKCS#1/SEC1 keys need fedlink-pki's {@code Pem.privateKey}
     */
    public static PrivateKey readPrivateKey(String pem) {
        for (Block b : blocks(pem)) {
            if (b.type().equals("PRIVATE KEY")) {
                try {
                    return decodePrivateKey(b.der());
                } finally {
                    Arrays.fill(b.der(), (byte) 0);
                }
            }
        }
        throw new IllegalArgumentException("no PRIVATE KEY block found (an unencrypted PKCS#8 key; convert other forms"
                + " with 'openssl pkcs8 -topk8 -nocrypt')");
    }

    /**
     * An unencrypted PKCS#8 private key (DER) as the JDK's own key object, whatever security providers are registered
     * after the JDK's.
     *
     * @throws IllegalArgumentException if no JDK key factory reads it (the message lists those tried)
     */
    public static PrivateKey decodePrivateKey(byte[] pkcs8) {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(pkcs8);
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (InvalidKeySpecException | java.security.NoSuchAlgorithmException | ClassCastException e) {
                // not this algorithm: try the next
            }
        }
        throw new IllegalArgumentException("the private key is none of " + KEY_ALGORITHMS + " (or it is damaged)");
    }

    /**
     * The first certificate in the text.
     *
     * @throws IllegalArgumentException if there is none or it is damaged
     */
    public static X509Certificate readCertificate(String pem) {
        return readCertificates(pem).get(0);
    }

    /**
     * Every certificate in the text, in order.
     *
     * @throws IllegalArgumentException if there is none or one is damaged
     */
    public static List<X509Certificate> readCertificates(String pem) {
        try {
            List<X509Certificate> out = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(
                    new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new IllegalArgumentException("no CERTIFICATE block found");
            }
            return out;
        } catch (CertificateException e) {
            throw new IllegalArgumentException("not a PEM certificate: " + e.getMessage(), e);
        }
    }

    /**
     * The CRL in the text (PEM or DER).
     *
     * @throws IllegalArgumentException if it is not a CRL
     */
    public static X509CRL readCrl(String pem) {
        try {
            return (X509CRL) CertificateFactory.getInstance("X.509")
                    .generateCRL(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not a PEM CRL: " + e.getMessage(), e);
        }
    }
}
