package io.fedlink.bundle;

import io.fedlink.api.HostNames;
import io.fedlink.api.PemCodec;
import io.fedlink.api.SecureFiles;
import io.fedlink.pki.KeyType;
import io.fedlink.pki.internal.Pem;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERPrintableString;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/**
 * The files {@code consul tls ca create} and {@code consul tls cert create -server|-client|-cli -dc DC} write, with
 * the same names, numbering and certificate fields, plus each agent's TLS stanza, one folder per agent: each folder
 * is exactly what one host gets (its certificate, its key, the CA certificate, its stanza), while the CA's key stays
 * with the operator at the top.
 *
 * <pre>{@code
 * ConsulBundle.builder().datacenter("dc1").servers(3).clients(1).clis(1).build().write(dir);
 * // consul-agent-ca.pem  consul-agent-ca-key.pem        the operator's CA (reused when already in dir)
 * // dc1-server-consul-0/  dc1-server-consul-0.pem  dc1-server-consul-0-key.pem  consul-agent-ca.pem
 * //                       dc1-server-consul-0.hcl                                          ... -1, -2
 * // dc1-client-consul-0/  dc1-client-consul-0.pem  dc1-client-consul-0-key.pem  consul-agent-ca.pem
 * //                       dc1-client-consul-0.hcl
 * // dc1-cli-consul-0/     dc1-cli-consul-0.pem  dc1-cli-consul-0-key.pem  consul-agent-ca.pem  dc1-cli-consul-0.env
 * }</pre>
 *
 * <p>The paths in an agent's {@code .hcl} or {@code .env} name its own folder: the install dir when one is given
 * (where that folder's files are placed on the host), else the folder as written.
 *
 * <p>As Consul: EC P-256 keys as SEC 1 {@code EC PRIVATE KEY} PEM (mode 0600); 128-bit random serials; the CA is
 * {@code Consul Agent CA <serial>} of HashiCorp's San Francisco address, key usage certSign, cRLSign,
 * digitalSignature, basic constraints CA without a path length, subject and authority key id the SHA-256 of its
 * public key, 1825 days. Each certificate: CN the role's name, key usage digitalSignature and keyEncipherment,
 * SHA-256 subject key id, 365 days; server: DNS {@code server.<dc>.<domain>}, {@code localhost}, IP
 * {@code 127.0.0.1}, serverAuth and clientAuth; client: {@code client.<dc>.<domain>}, {@code localhost},
 * {@code 127.0.0.1}, clientAuth and serverAuth; cli: {@code cli.<dc>.<domain>}, {@code localhost}, no extended key
 * usage. Numbers count from 0; a number is taken when its folder exists (even empty), or a certificate or key file of
 * the earlier flat layout does.
 *
 * <p>Only a server certificate names {@code server.<dc>.<domain>}: with {@code verify_server_hostname = true} an
 * agent holding a client certificate cannot pose as a server. Each {@code .hcl} sets {@code verify_incoming},
 * {@code verify_outgoing} and {@code verify_server_hostname}, closes plain HTTP ({@code ports { http = -1 }}: the API
 * only on 8501, TLS), and a server's also {@code auto_encrypt { allow_tls = true }} so clients may take their
 * certificates from the servers instead of these files. The {@code tls {}} stanza is Consul 1.12's and later's.
 */
public final class ConsulBundle implements Bundle {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The three kinds of certificate Consul's {@code tls cert create} makes. */
    public enum Role {
        /** {@code -server}. */
        SERVER,
        /** {@code -client}. */
        CLIENT,
        /** {@code -cli}. */
        CLI;

        String word() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Builder b;

    private ConsulBundle(Builder b) {
        this.b = b;
    }

    /** Starts a bundle for datacenter {@code dc1}, domain {@code consul}. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Writes (or reuses) the CA in {@code dir} (created with mode 0700) and each agent's files into its own folder
     * {@code dir/<name>/} (mode 0700), numbering each role after the agents already there.
     */
    @Override
    public WrittenBundle write(Path dir) throws IOException {
        BundleWriter w = new BundleWriter(dir);
        String caFile = b.domain + "-agent-ca.pem";
        String caKeyFile = b.domain + "-agent-ca-key.pem";
        X509Certificate ca;
        PrivateKey caKey;
        if (Files.exists(w.dir().resolve(caFile)) && Files.exists(w.dir().resolve(caKeyFile))) {
            ca = PemCodec.readCertificate(Files.readString(w.dir().resolve(caFile)));
            caKey = Pem.privateKey(Files.readString(w.dir().resolve(caKeyFile)), null);
        } else {
            KeyPair pair = KeyType.EC_P256.generate();
            ca = caCertificate(pair, b.caDays);
            caKey = pair.getPrivate();
            w.plain(caFile, PemCodec.certificates(List.of(ca)));
            w.secret(caKeyFile, sec1(pair));
        }
        for (Role role : Role.values()) {
            for (int i = 0; i < b.counts[role.ordinal()]; i++) {
                String name = nextFree(w.dir(), b.datacenter + "-" + role.word() + "-" + b.domain);
                // one folder per agent, exactly what its host gets: certificate, key, CA certificate, stanza
                SecureFiles.privateDirectory(w.dir().resolve(name));
                Path at = b.installDir != null ? b.installDir : w.dir().resolve(name).toAbsolutePath();
                KeyPair pair = KeyType.EC_P256.generate();
                w.plain(name + "/" + name + ".pem",
                        PemCodec.certificates(List.of(certificate(role, pair.getPublic(), ca, caKey))));
                w.secret(name + "/" + name + "-key.pem", sec1(pair));
                w.plain(name + "/" + caFile, PemCodec.certificates(List.of(ca)));
                if (role == Role.CLI) {
                    w.plain(name + "/" + name + ".env", cliEnvironment(at, caFile, name));
                } else {
                    w.plain(name + "/" + name + ".hcl", agentStanza(role, at, caFile, name));
                }
            }
        }
        return new WrittenBundle(w.dir(), w.written());
    }

    /**
     * {@code <prefix>-<n>} for the first n with no folder of that name (even empty) and no certificate or key file
     * of the earlier flat layout.
     */
    static String nextFree(Path dir, String prefix) {
        for (int n = 0; n <= 10000; n++) {
            String name = prefix + "-" + n;
            if (!Files.exists(dir.resolve(name)) && !Files.exists(dir.resolve(name + ".pem"))
                    && !Files.exists(dir.resolve(name + "-key.pem"))) {
                return name;
            }
        }
        throw new IllegalStateException(dir + " already holds 10001 " + prefix + " certificates");
    }

    private X509Certificate caCertificate(KeyPair pair, int days) {
        BigInteger serial = serial();
        X500Name subject = name(BCStyle.C, "US", BCStyle.ST, "CA", BCStyle.L, "San Francisco", BCStyle.STREET,
                "101 Second Street", BCStyle.POSTAL_CODE, "94105", BCStyle.O, "HashiCorp Inc.", BCStyle.CN,
                "Consul Agent CA " + serial);
        byte[] id = keyId(pair.getPublic());
        Instant now = Instant.now();
        return X509.sign(subject, subject, serial, now, now.plus(Duration.ofDays(days)), pair.getPublic(),
                pair.getPrivate(), c -> {
                    c.addExtension(Extension.keyUsage, true,
                            new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
                    c.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
                    c.addExtension(Extension.subjectKeyIdentifier, false, new SubjectKeyIdentifier(id));
                    c.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(id));
                });
    }

    private X509Certificate certificate(Role role, PublicKey key, X509Certificate ca, PrivateKey caKey) {
        String name = role.word() + "." + b.datacenter + "." + b.domain;
        List<GeneralName> sans = new ArrayList<>();
        sans.add(new GeneralName(GeneralName.dNSName, name));
        sans.add(new GeneralName(GeneralName.dNSName, "localhost"));
        KeyPurposeId[] eku = switch (role) {
            case SERVER -> new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth};
            case CLIENT -> new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_serverAuth};
            case CLI -> new KeyPurposeId[0];
        };
        if (role != Role.CLI) {
            sans.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
        }
        X500Name issuer = X500Name.getInstance(ca.getSubjectX500Principal().getEncoded());
        byte[] caId = SubjectKeyIdentifier.getInstance(ASN1OctetString.getInstance(
                ca.getExtensionValue(Extension.subjectKeyIdentifier.getId())).getOctets()).getKeyIdentifier();
        Instant now = Instant.now();
        return X509.sign(issuer, name(BCStyle.CN, name), serial(),
                now, now.plus(Duration.ofDays(b.days)), key, caKey, c -> {
                    c.addExtension(Extension.keyUsage, true,
                            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
                    if (eku.length > 0) {
                        c.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(eku));
                    }
                    c.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                    c.addExtension(Extension.subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId(key)));
                    c.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(caId));
                    c.addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(sans.toArray(GeneralName[]::new)));
                });
    }

    private String agentStanza(Role role, Path at, String caFile, String name) {
        String ports = "ports {\n"
                + "  http  = -1\n" // plain HTTP (8500) closed: the API only over HTTPS with a client certificate
                + "  https = 8501\n"
                + "}\n"
                + (role == Role.SERVER ? "auto_encrypt {\n  allow_tls = true\n}\n" : "");
        if (!b.tlsStanza) { // before Consul 1.12: the same settings as top-level keys
            return "# Consul agent TLS (Consul before 1.12), written by fedlink; merge into the agent's configuration.\n"
                    + "ca_file                = \"" + at.resolve(caFile) + "\"\n"
                    + "cert_file              = \"" + at.resolve(name + ".pem") + "\"\n"
                    + "key_file               = \"" + at.resolve(name + "-key.pem") + "\"\n"
                    + "verify_incoming        = true\n"
                    + "verify_outgoing        = true\n"
                    + "verify_server_hostname = true\n"
                    + ports;
        }
        return "# Consul agent TLS, written by fedlink; merge into the agent's configuration.\n"
                + "tls {\n"
                + "  defaults {\n"
                + "    ca_file         = \"" + at.resolve(caFile) + "\"\n"
                + "    cert_file       = \"" + at.resolve(name + ".pem") + "\"\n"
                + "    key_file        = \"" + at.resolve(name + "-key.pem") + "\"\n"
                + "    verify_incoming = true\n"
                + "    verify_outgoing = true\n"
                + "  }\n"
                + "  internal_rpc {\n"
                + "    verify_server_hostname = true\n"
                + "  }\n"
                + "}\n"
                + ports;
    }

    private String cliEnvironment(Path at, String caFile, String name) {
        return "# consul CLI over HTTPS with this certificate, written by fedlink: source this file.\n"
                + "export CONSUL_HTTP_ADDR=https://localhost:8501\n"
                + "export CONSUL_CACERT=" + at.resolve(caFile) + "\n"
                + "export CONSUL_CLIENT_CERT=" + at.resolve(name + ".pem") + "\n"
                + "export CONSUL_CLIENT_KEY=" + at.resolve(name + "-key.pem") + "\n";
    }

    /** A name as Go's {@code pkix.Name} encodes it: one RDN per attribute, printable strings (names here are). */
    private static X500Name name(Object... typesAndValues) {
        X500NameBuilder n = new X500NameBuilder(BCStyle.INSTANCE);
        for (int i = 0; i < typesAndValues.length; i += 2) {
            n.addRDN((ASN1ObjectIdentifier) typesAndValues[i], new DERPrintableString((String) typesAndValues[i + 1]));
        }
        return n.build();
    }

    private static BigInteger serial() {
        return new BigInteger(128, RANDOM); // Go's rand.Int(rand.Reader, 2^128)
    }

    /** Consul's key id: SHA-256 of the DER SubjectPublicKeyInfo. */
    static byte[] keyId(PublicKey key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /** The key as Go's {@code x509.MarshalECPrivateKey} writes it: SEC 1 with the named curve and public key. */
    static String sec1(KeyPair pair) {
        ECPrivateKey k = (ECPrivateKey) pair.getPrivate();
        byte[] point = SubjectPublicKeyInfo.getInstance(pair.getPublic().getEncoded()).getPublicKeyData()
                .getBytes();
        try {
            byte[] der = new org.bouncycastle.asn1.sec.ECPrivateKey(256, k.getS(), new DERBitString(point),
                    SECObjectIdentifiers.secp256r1).getEncoded();
            return PemCodec.block("EC PRIVATE KEY", der);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode an EC key: " + e.getMessage(), e);
        }
    }

    /** Chooses the datacenter, domain and how many certificates of each role. */
    public static final class Builder {
        private String datacenter = "dc1";
        private String domain = "consul";
        private final int[] counts = {1, 0, 0};
        private int days = 365;
        private int caDays = 1825;
        private Path installDir;
        private boolean tlsStanza = true;

        private Builder() {}

        /**
         * The agents' Consul version ({@code major.minor[.patch]}, 1.0 or later; default 1.12): from 1.12 the TLS
         * settings go in the {@code tls {}} stanza, before it as top-level keys ({@code ca_file},
         * {@code verify_server_hostname}, ...), which 1.12 and later still read but deprecate.
         */
        public Builder consulVersion(String version) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)\\.(\\d+)(\\.\\d+)?")
                    .matcher(String.valueOf(version));
            if (!m.matches() || Integer.parseInt(m.group(1)) < 1) {
                throw new IllegalArgumentException("invalid Consul version " + HostNames.quote(String.valueOf(version))
                        + ": give major.minor, 1.0 or later (e.g. 1.11 or 1.19)");
            }
            int major = Integer.parseInt(m.group(1));
            this.tlsStanza = major > 1 || Integer.parseInt(m.group(2)) >= 12;
            return this;
        }

        /** The datacenter ({@code -dc}), one DNS label; default {@code dc1}. */
        public Builder datacenter(String dc) {
            if (dc == null || !HostNames.isDnsName(dc) || dc.contains(".")) {
                throw new IllegalArgumentException("invalid datacenter " + HostNames.quote(dc)
                        + ": one DNS label, e.g. dc1");
            }
            this.datacenter = dc.toLowerCase(Locale.ROOT);
            return this;
        }

        /** The Consul domain ({@code -domain}); default {@code consul}. */
        public Builder domain(String d) {
            this.domain = HostNames.canonicalDnsName(Objects.requireNonNull(d, "domain"));
            return this;
        }

        /** How many {@code -server} certificates (default 1). */
        public Builder servers(int n) {
            return count(Role.SERVER, n);
        }

        /** How many {@code -client} certificates (default 0). */
        public Builder clients(int n) {
            return count(Role.CLIENT, n);
        }

        /** How many {@code -cli} certificates (default 0). */
        public Builder clis(int n) {
            return count(Role.CLI, n);
        }

        private Builder count(Role role, int n) {
            if (n < 0 || n > 100) {
                throw new IllegalArgumentException("number of " + role.word() + " certificates must be 0..100, was "
                        + n);
            }
            counts[role.ordinal()] = n;
            return this;
        }

        /** Certificate validity in days ({@code -days}, default 365). */
        public Builder days(int d) {
            this.days = checkDays(d);
            return this;
        }

        /** CA validity in days ({@code tls ca create -days}, default 1825), used when a CA is created. */
        public Builder caDays(int d) {
            this.caDays = checkDays(d);
            return this;
        }

        private static int checkDays(int d) {
            if (d < 1 || d > 36500) {
                throw new IllegalArgumentException("validity must be 1..36500 days, was " + d);
            }
            return d;
        }

        /**
         * Where each agent's files will live on its host (the paths in its {@code .hcl} or {@code .env}): the folder
         * that receives the contents of that agent's folder. Default: the agent's folder as written.
         */
        public Builder installDir(Path dir) {
            this.installDir = dir;
            return this;
        }

        /** The bundle. */
        public ConsulBundle build() {
            return new ConsulBundle(this);
        }
    }
}
