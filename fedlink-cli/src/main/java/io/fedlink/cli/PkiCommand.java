package io.fedlink.cli;

import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.IssuedCertificate;
import io.fedlink.pki.KeyType;
import io.fedlink.pki.Pem;
import io.fedlink.pki.Profile;
import io.fedlink.pki.RevocationReason;
import io.fedlink.pki.SecureFiles;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fedlink pki}: the CA as a folder, replacing openssl, keytool and {@code consul tls}. */
@Command(name = "pki", mixinStandardHelpOptions = true,
        description = "Create a CA, issue certificates, sign CSRs, revoke and publish CRLs (a CA is a folder).",
        subcommands = {PkiCommand.Ca.class, PkiCommand.Cert.class, PkiCommand.SignCsr.class, PkiCommand.Revoke.class,
                PkiCommand.Crl.class})
final class PkiCommand {

    /** Options naming the CA folder. */
    static final class CaDir {
        @Option(names = "--ca-dir", required = true, description = "CA folder (ca.pem, ca-key.pem, index.tsv)")
        Path dir;

        @Option(names = "--ca-password-file", description = "file holding the CA key's password, if encrypted")
        Path passwordFile;

        CertificateAuthority load() throws Exception {
            return CertificateAuthority.load(dir, Secrets.read(passwordFile));
        }

        void save(CertificateAuthority ca) throws Exception {
            ca.save(dir, Secrets.read(passwordFile));
        }
    }

    static void saved(PrintWriter out, Path p) {
        out.println("==> Saved " + p);
    }

    @Command(name = "ca", mixinStandardHelpOptions = true, description = "CA folders.",
            subcommands = {Ca.Create.class})
    static final class Ca {
        @Command(name = "create", mixinStandardHelpOptions = true,
                description = "Create a root CA in --ca-dir (refuses to overwrite one).")
        static final class Create implements Callable<Integer> {
            @Spec
            CommandSpec spec;
            @Mixin
            CaDir ca;
            @Option(names = "--name", defaultValue = "fedlink CA", description = "CA common name (default: ${DEFAULT-VALUE})")
            String name;
            @Option(names = "--key-type", defaultValue = "ec-p256", converter = KeyTypes.class,
                    description = "ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096, ed25519 (default: ${DEFAULT-VALUE})")
            KeyType keyType;
            @Option(names = "--days", defaultValue = "3650", description = "validity (default: ${DEFAULT-VALUE})")
            int days;
            @Option(names = "--path-length", description = "intermediate CAs allowed below (default 1)")
            Integer pathLength;
            @Option(names = "--permit-dns", description = "only issue names in this domain (repeatable), e.g. fate.org")
            List<String> permit = new ArrayList<>();

            @Override
            public Integer call() throws Exception {
                if (Files.exists(ca.dir.resolve("ca-key.pem"))) {
                    throw new IllegalArgumentException(ca.dir + " already holds a CA; refusing to overwrite it");
                }
                CertificateAuthority.Builder b = CertificateAuthority.builder().commonName(name).keyType(keyType)
                        .days(days).permitDns(permit.toArray(String[]::new));
                if (pathLength != null) {
                    b.pathLength(pathLength);
                }
                CertificateAuthority created = b.create();
                ca.save(created);
                PrintWriter out = spec.commandLine().getOut();
                saved(out, ca.dir.resolve("ca.pem"));
                saved(out, ca.dir.resolve("ca-key.pem"));
                return 0;
            }
        }
    }

    @Command(name = "cert", mixinStandardHelpOptions = true, description = "Certificates.",
            subcommands = {Cert.Create.class})
    static final class Cert {
        @Command(name = "create", mixinStandardHelpOptions = true,
                description = "Issue a certificate and key into --out (default: the CA folder).")
        static final class Create implements Callable<Integer> {
            @Spec
            CommandSpec spec;
            @Mixin
            CaDir ca;
            @Option(names = "--role", defaultValue = "server", converter = Roles.class,
                    description = "server, client, peer or cli (default: ${DEFAULT-VALUE})")
            Profile role;
            @Option(names = "--name", description = "DNS name (server/peer) or common name (client/cli)")
            String name;
            @Option(names = "--party", description = "FATE party id: name <party>.<--domain>")
            String party;
            @Option(names = "--domain", defaultValue = "fate.org", description = "party domain (default: ${DEFAULT-VALUE})")
            String domain;
            @Option(names = "--san", description = "extra DNS name, IP address or URI (repeatable)")
            List<String> sans = new ArrayList<>();
            @Option(names = "--days", defaultValue = "397", description = "validity (default: ${DEFAULT-VALUE})")
            int days;
            @Option(names = "--key-type", defaultValue = "ec-p256", converter = KeyTypes.class,
                    description = "key type (default: ${DEFAULT-VALUE})")
            KeyType keyType;
            @Option(names = "--pkcs12", description = "also write <name>.p12 (needs --password-file)")
            boolean pkcs12;
            @Option(names = "--jks", description = "also write <name>.jks and truststore.jks (needs --password-file)")
            boolean jks;
            @Option(names = "--password-file", description = "file holding the key store password")
            Path passwordFile;
            @Option(names = "--out", description = "folder for the files (default: the CA folder)")
            Path out;

            @Override
            public Integer call() throws Exception {
                CertificateAuthority authority = ca.load();
                CertificateRequest r;
                String file;
                if (party != null) {
                    r = CertificateRequest.party(party, domain);
                    if (role != Profile.SERVER && role != Profile.PEER) {
                        throw new IllegalArgumentException("--party issues a server+client (peer) certificate; "
                                + "--role " + role + " does not fit");
                    }
                    file = r.effectiveCommonName();
                } else if (name == null) {
                    throw new IllegalArgumentException("give --name or --party");
                } else if (role == Profile.SERVER || role == Profile.PEER) {
                    r = CertificateRequest.of(role).san(name);
                    file = name;
                } else {
                    r = CertificateRequest.of(role).commonName(name);
                    file = name;
                }
                sans.forEach(r::san);
                r.days(days).keyType(keyType);
                IssuedCertificate c = authority.issue(r);
                Path dir = out != null ? SecureFiles.privateDirectory(out) : ca.dir;
                PrintWriter o = spec.commandLine().getOut();
                for (Path p : c.writePem(dir, file)) {
                    saved(o, p);
                }
                if (pkcs12 || jks) {
                    char[] pw = Secrets.read(passwordFile);
                    if (pw == null) {
                        throw new IllegalArgumentException("--pkcs12 and --jks need --password-file");
                    }
                    if (pkcs12) {
                        saved(o, store(c.keyStore("PKCS12", file, pw), dir.resolve(file + ".p12"), pw));
                    }
                    if (jks) {
                        saved(o, store(c.keyStore("JKS", file, pw), dir.resolve(file + ".jks"), pw));
                        saved(o, store(c.tlsMaterial().trustStore("JKS"), dir.resolve("truststore.jks"), pw));
                    }
                }
                ca.save(authority);
                o.println("serial " + c.serial().toString(16));
                return 0;
            }
        }
    }

    static Path store(KeyStore ks, Path file, char[] password) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ks.store(bytes, password);
        SecureFiles.writePrivate(file, bytes.toByteArray());
        return file;
    }

    @Command(name = "sign-csr", mixinStandardHelpOptions = true,
            description = "Sign a PKCS#10 CSR (openssl req -new) under a role.")
    static final class SignCsr implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        CaDir ca;
        @Option(names = "--csr", required = true, description = "the CSR (PEM)")
        Path csr;
        @Option(names = "--role", defaultValue = "server", converter = Roles.class,
                description = "server, client, peer or cli (default: ${DEFAULT-VALUE})")
        Profile role;
        @Option(names = "--days", defaultValue = "397", description = "validity (default: ${DEFAULT-VALUE})")
        int days;
        @Option(names = "--out", required = true, description = "where to write the certificate chain (PEM)")
        Path out;

        @Override
        public Integer call() throws Exception {
            CertificateAuthority authority = ca.load();
            IssuedCertificate c = authority.signCsr(Files.readString(csr), role, days);
            SecureFiles.writePublic(out, c.chainPem());
            ca.save(authority);
            saved(spec.commandLine().getOut(), out);
            spec.commandLine().getOut().println("serial " + c.serial().toString(16));
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a certificate by serial.")
    static final class Revoke implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        CaDir ca;
        @Option(names = "--serial", required = true, description = "serial number (hex, as printed when issued)")
        String serial;
        @Option(names = "--reason", defaultValue = "unspecified",
                description = "unspecified, key-compromise, affiliation-changed, superseded, cessation-of-operation")
        String reason;

        @Override
        public Integer call() throws Exception {
            CertificateAuthority authority = ca.load();
            BigInteger s;
            try {
                s = new BigInteger(serial.replace(":", ""), 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid serial '" + serial + "': expected hex");
            }
            authority.revoke(s, RevocationReason.parse(reason));
            ca.save(authority);
            spec.commandLine().getOut().println("==> Revoked " + s.toString(16));
            return 0;
        }
    }

    @Command(name = "crl", mixinStandardHelpOptions = true, description = "Write the CRL (PEM).")
    static final class Crl implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        CaDir ca;
        @Option(names = "--days", defaultValue = "7", description = "validity (default: ${DEFAULT-VALUE})")
        int days;
        @Option(names = "--der", description = "write DER instead of PEM")
        boolean der;
        @Option(names = "--out", description = "file (default: <ca-dir>/crl.pem, or crl.der with --der)")
        Path out;

        @Override
        public Integer call() throws Exception {
            CertificateAuthority authority = ca.load();
            Path file = out != null ? out : ca.dir.resolve(der ? "crl.der" : "crl.pem");
            var crl = authority.crl(Duration.ofDays(days));
            if (der) {
                SecureFiles.writePublic(file, crl.getEncoded());
            } else {
                SecureFiles.writePublic(file, Pem.encode(crl));
            }
            ca.save(authority); // the CRL number advanced
            saved(spec.commandLine().getOut(), file);
            return 0;
        }
    }

    /** Converts key-type option values. */
    static final class KeyTypes implements picocli.CommandLine.ITypeConverter<KeyType> {
        @Override
        public KeyType convert(String value) {
            return KeyType.parse(value);
        }
    }

    /** Converts role option values. */
    static final class Roles implements picocli.CommandLine.ITypeConverter<Profile> {
        @Override
        public Profile convert(String value) {
            return Profile.parse(value);
        }
    }
}
