package io.fedlink.bundle;

import io.fedlink.api.FileSet;
import io.fedlink.api.HostNames;
import io.fedlink.api.HostnameVerification;
import io.fedlink.api.SecureFiles;
import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.IssuedCertificate;
import io.fedlink.pki.KeyType;
import io.fedlink.api.PemCodec;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;

/**
 * Flink's SSL setup of the Flink deployment guide: the internal key store and trust store (one self-signed
 * certificate shared by every JobManager and TaskManager, as the guide does), the REST key store and trust store
 * from a fedlink CA,
 * a REST client certificate for {@code curl} and the Flink CLI (PEM, and a PKCS#12 store under its own password),
 * and the exact {@code security.ssl.*} lines. Written all or nothing: a refused bundle leaves no file behind.
 *
 * <pre>{@code
 * WrittenBundle b = FlinkBundle.builder(ca).restNames("flink-jm.example", "10.0.0.5").build().write(dir);
 * // dir: internal.keystore.p12  internal.truststore.p12  internal.password
 * //      rest.keystore.p12  rest.truststore.p12  rest.password  rest-client.pem  rest-client-key.pem
 * //      rest-client.keystore.p12  rest-client.password  ca.pem
 * //      flink-ssl.yaml   (append to conf/config.yaml; mode 0600: it holds the passwords)
 * }</pre>
 *
 * <p><b>Internal trust.</b> The internal trust store holds the shared self-signed certificate itself, no CA: only
 * a process holding that one key is accepted, whatever any CA issued. That is the one case where hostname verification
 * may be off ({@link HostnameVerification#DISABLED_FOR_SHARED_CERTIFICATE}); Flink does not check names there.
 *
 * <p><b>REST trust.</b> The REST trust store holds the CA, and {@code security.ssl.rest.authentication-enabled: true}
 * makes the REST endpoint require a client certificate from it. Use a CA dedicated to this Flink cluster: every
 * certificate the CA issues can call the REST API. A CA folder the bundle creates is marked as such
 * ({@link #REST_CA_MARK}); {@link #requireDedicatedRestCa(Path)} refuses any other (a federation's CA would make
 * every party a REST client).
 *
 * <p><b>Keys and suites.</b> Keys are RSA (2048 bits by default): the guide's RFC 7525 suites
 * ({@link #ALGORITHMS}) are the {@code TLS_*_RSA_WITH_AES_*_GCM_*} ones, which an EC key cannot serve. Key stores
 * are PKCS#12, store and key under the same password (Flink's {@code key-password} equals the store's).
 */
public final class FlinkBundle implements Bundle {
    /** The TLS 1.2 suites written to {@code security.ssl.algorithms}: the RFC 7525 suites for RSA keys. */
    public static final List<String> ALGORITHMS = TlsMaterial.CIPHER_SUITES.stream()
            .filter(s -> s.contains("_RSA_WITH_")).toList();
    /** The config file written into the bundle. */
    public static final String CONFIG_FILE = "flink-ssl.yaml";

    /** The file marking a CA folder as a dedicated Flink REST CA: written when the bundle creates the CA there. */
    public static final String REST_CA_MARK = "flink-rest-ca";
    /** The REST client certificate's CN and its alias in {@code rest-client.keystore.p12}. */
    public static final String REST_CLIENT_ALIAS = "flink-rest-client";
    private static final String ENROLLMENT_TOKENS = "enrollment-tokens.tsv"; // what 'pki token create' writes

    private final Builder b;

    private FlinkBundle(Builder b) {
        this.b = b;
    }

    /** Starts a bundle whose REST certificates {@code ca} issues. */
    public static Builder builder(CertificateAuthority ca) {
        return new Builder(ca);
    }

    /**
     * Issues the certificates and writes the files into {@code dir} (created with mode 0700). Passwords not given
     * to the builder are generated. Nothing secret is returned or logged. All or nothing, as {@link #write(Path,
     * FileSet.Step)}.
     */
    @Override
    public WrittenBundle write(Path dir) throws IOException {
        return write(dir, FileSet.NOTHING);
    }

    /**
     * Issues the certificates and makes every file in memory, then writes them beside their targets, runs
     * {@code whenStaged} (saving the CA that issued them) and moves them into place. A refusal at any point (a name
     * that cannot be certified, a target that is not a regular file, a failing {@code whenStaged}) leaves no new
     * file and no new folder behind.
     */
    public WrittenBundle write(Path dir, FileSet.Step whenStaged) throws IOException {
        BundleWriter w = BundleWriter.staged(dir);
        Path at = b.installDir != null ? b.installDir : w.dir().toAbsolutePath();
        ConfigLines conf = new ConfigLines();
        if (b.internal) {
            char[] pw = b.internalPassword != null ? b.internalPassword : Passwords.generate();
            TlsMaterial internal = sharedInternalCertificate(b.internalName, b.keyType, b.days);
            w.secret("internal.keystore.p12", internal.keyStore("PKCS12", "flink-internal", pw), pw);
            w.secret("internal.truststore.p12", internal.trustStore("PKCS12"), pw);
            w.password("internal.password", pw);
            stores(conf, "internal", at, pw);
        }
        if (b.rest) {
            char[] pw = b.restPassword != null ? b.restPassword : Passwords.generate();
            CertificateRequest server = CertificateRequest.peer().keyType(b.keyType).days(b.days);
            b.restNames.forEach(server::san);
            IssuedCertificate endpoint = b.ca.issue(server);
            w.secret("rest.keystore.p12", endpoint.tlsMaterial().keyStore("PKCS12", "flink-rest", pw), pw);
            w.secret("rest.truststore.p12", endpoint.tlsMaterial().trustStore("PKCS12"), pw);
            w.password("rest.password", pw);
            IssuedCertificate client = b.ca.issue(CertificateRequest.client(REST_CLIENT_ALIAS).keyType(b.keyType)
                    .days(b.days));
            w.plain("rest-client.pem", client.chainPem());
            w.secret("rest-client-key.pem", client.privateKeyPem());
            char[] clientPw = Passwords.generate(); // the client store travels to other hosts: its own password
            w.secret("rest-client.keystore.p12", client.tlsMaterial().keyStore("PKCS12", REST_CLIENT_ALIAS, clientPw), clientPw);
            w.password("rest-client.password", clientPw);
            w.plain("ca.pem", PemCodec.certificates(List.of(b.ca.root())));
            stores(conf, "rest", at, pw);
            conf.put("security.ssl.rest.authentication-enabled", true);
        }
        conf.put("security.ssl.protocol", "TLSv1.2");
        conf.put("security.ssl.algorithms", String.join(",", ALGORITHMS));
        w.secret(CONFIG_FILE, conf.yaml("# Flink SSL, written by fedlink: append to conf/config.yaml.\n"
                + "# Holds the key store passwords: keep this file mode 0600.\n"));
        w.commit(whenStaged);
        return new WrittenBundle(w.dir(), w.written());
    }

    /**
     * Refuses the CA folder {@code caDir} as the REST CA unless it is one the bundle made for a REST endpoint
     * (marked with {@link #REST_CA_MARK}) and enrolls no parties; a folder without a CA is fine (one is created
     * there). With {@code security.ssl.rest.authentication-enabled}, every certificate the REST CA ever issued or
     * will issue is a REST client: a federation's CA would make every party one.
     *
     * @throws IllegalArgumentException naming the folder, why, and what to do
     */
    public static void requireDedicatedRestCa(Path caDir) {
        if (!Files.exists(caDir.resolve("ca-key.pem"), LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        String why = Files.exists(caDir.resolve(ENROLLMENT_TOKENS), LinkOption.NOFOLLOW_LINKS)
                ? "it enrolls parties ('fedlink pki token create' was used on it)"
                : !Files.isRegularFile(caDir.resolve(REST_CA_MARK), LinkOption.NOFOLLOW_LINKS)
                ? "it was not made by 'fedlink bundle flink' for a REST endpoint (no " + REST_CA_MARK + " file)"
                : null;
        if (why != null) {
            throw new IllegalArgumentException("refusing the CA in '" + caDir + "' for Flink REST: " + why + ". The "
                    + "REST endpoint requires client certificates from its CA, so every certificate this CA issues "
                    + "(every party of a federation) would be a valid Flink REST client. Leave out --ca-dir to make "
                    + "a dedicated REST CA in <out>/ca, or give an empty folder. A CA made by an earlier 'bundle "
                    + "flink' and used for nothing else can be marked by creating the empty file '"
                    + caDir.resolve(REST_CA_MARK) + "'");
        }
    }

    /** Marks {@code caDir} as a dedicated Flink REST CA (see {@link #requireDedicatedRestCa(Path)}). */
    public static void markRestCa(Path caDir) throws IOException {
        if (!Files.isRegularFile(caDir.resolve(REST_CA_MARK), LinkOption.NOFOLLOW_LINKS)) {
            SecureFiles.writePublic(caDir.resolve(REST_CA_MARK), "This CA issues the Flink REST endpoint's and "
                    + "clients' certificates only: every certificate it issues can call the Flink REST API.\n");
        }
    }

    /**
     * Returns {@code type} if it is an RSA type.
     *
     * @throws IllegalArgumentException otherwise: the RFC 7525 suites Flink is configured with need RSA keys
     */
    public static KeyType requireRsa(KeyType type) {
        return switch (type) {
            case RSA_2048, RSA_3072, RSA_4096 -> type;
            default -> throw new IllegalArgumentException("key type " + type + " cannot serve the RFC 7525 RSA suites "
                    + "Flink is configured with: use rsa-2048, rsa-3072 or rsa-4096");
        };
    }

    /**
     * The guide's {@code keytool -genkeypair}: a self-signed certificate every process presents and, alone, trusts.
     * Self-signed, not CA-issued: a server asks for a certificate issued by one of its trust anchors' subjects, so
     * a CA-issued certificate pinned as the sole anchor would never be offered by the client side.
     */
    static TlsMaterial sharedInternalCertificate(String name, KeyType keyType, int days) {
        KeyPair pair = keyType.generate();
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name).build();
        Instant now = Instant.now();
        X509Certificate cert = X509.sign(subject, subject, new BigInteger(127, new SecureRandom()).setBit(126),
                now.minus(Duration.ofMinutes(5)), now.plus(Duration.ofDays(days)), pair.getPublic(),
                pair.getPrivate(), b -> {
                    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                    b.addExtension(Extension.keyUsage, true,
                            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
                    b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
                    b.addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(new GeneralName(GeneralName.dNSName, name)));
                });
        return TlsMaterial.builder().identity(pair.getPrivate(), cert).trust(cert)
                .hostnameVerification(HostnameVerification.DISABLED_FOR_SHARED_CERTIFICATE).build();
    }

    private static void stores(ConfigLines conf, String scope, Path at, char[] pw) {
        String p = "security.ssl." + scope + ".";
        String password = new String(pw);
        conf.put(p + "enabled", true);
        conf.put(p + "keystore", at.resolve(scope + ".keystore.p12"));
        conf.put(p + "keystore-password", password);
        conf.put(p + "key-password", password);
        conf.put(p + "truststore", at.resolve(scope + ".truststore.p12"));
        conf.put(p + "truststore-password", password);
    }

    /** Chooses what the bundle holds. */
    public static final class Builder {
        private final CertificateAuthority ca;
        private boolean internal = true;
        private boolean rest = true;
        private List<String> restNames = List.of("localhost", "127.0.0.1");
        private String internalName = "flink-internal";
        private char[] internalPassword;
        private char[] restPassword;
        private Path installDir;
        private KeyType keyType = KeyType.RSA_2048;
        private int days = CertificateRequest.DEFAULT_DAYS;

        private Builder(CertificateAuthority ca) {
            this.ca = Objects.requireNonNull(ca, "ca");
        }

        /** Whether to write the internal (RPC, data plane, blob) stores; default true. */
        public Builder internal(boolean on) {
            this.internal = on;
            return this;
        }

        /** Whether to write the REST stores and client certificate; default true. */
        public Builder rest(boolean on) {
            this.rest = on;
            return this;
        }

        /** Names (DNS or IP) of the REST endpoint clients dial; default {@code localhost}, {@code 127.0.0.1}. */
        public Builder restNames(String... names) {
            if (names.length == 0) {
                throw new IllegalArgumentException("the REST certificate needs at least one name clients dial");
            }
            this.restNames = List.of(names);
            return this;
        }

        /** The shared internal certificate's CN and DNS name (Flink checks no name); default {@code flink-internal}. */
        public Builder internalName(String name) {
            this.internalName = HostNames.canonicalDnsName(name);
            return this;
        }

        /** The internal stores' password; generated when not set. */
        public Builder internalPassword(char[] password) {
            this.internalPassword = password;
            return this;
        }

        /** The REST stores' password; generated when not set. */
        public Builder restPassword(char[] password) {
            this.restPassword = password;
            return this;
        }

        /** Where the files will live on the Flink hosts (the paths in the lines); default: the output folder. */
        public Builder installDir(Path dir) {
            this.installDir = dir;
            return this;
        }

        /** The RSA key size: {@code RSA_2048} (default), {@code RSA_3072} or {@code RSA_4096}. */
        public Builder keyType(KeyType type) {
            this.keyType = requireRsa(type);
            return this;
        }

        /** Validity of the issued certificates in days (default 397). */
        public Builder days(int d) {
            if (d < 1 || d > 3650) {
                throw new IllegalArgumentException("validity must be 1..3650 days, was " + d);
            }
            this.days = d;
            return this;
        }

        /** The bundle; at least one of internal and REST. */
        public FlinkBundle build() {
            if (!internal && !rest) {
                throw new IllegalArgumentException("nothing to write: enable the internal or the REST stores");
            }
            return new FlinkBundle(this);
        }
    }

    @Override
    public String toString() {
        return "FlinkBundle[internal " + b.internal + ", rest " + b.rest + " " + b.restNames.stream()
                .collect(Collectors.joining(",")) + "]";
    }
}
