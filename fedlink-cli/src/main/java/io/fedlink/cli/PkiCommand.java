package io.fedlink.cli;

import io.fedlink.cli.support.Secrets;
import io.fedlink.api.FileSet;
import io.fedlink.api.PemCodec;
import io.fedlink.api.SecureFiles;
import io.fedlink.pki.CaFolder;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.IssuedCertificate;
import io.fedlink.pki.KeyType;
import io.fedlink.pki.Profile;
import io.fedlink.pki.RevocationReason;
import io.fedlink.pki.internal.Parsing;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code fedlink pki}: the CA as a folder, replacing openssl, keytool and {@code consul tls}. Every command checks
 * all of its input first, then writes its files and the CA index as one unit: a refusal or failure leaves no new
 * file and the index unchanged. Existing keys and certificates are replaced only with {@code --force} (a replaced
 * certificate of this CA is revoked as superseded); {@code --out -} means standard output for certificates and CRLs.
 */
@Command(name = "pki", mixinStandardHelpOptions = true,
        description = "Create a CA, issue certificates, sign CSRs, revoke and publish CRLs (a CA is a folder); "
                + "enroll and renew parties over HTTPS.",
        subcommands = {PkiCommand.Ca.class, PkiCommand.Cert.class, PkiCommand.SignCsr.class, PkiCommand.Revoke.class,
                PkiCommand.Crl.class, PkiCommand.Party.class, PkiEnrollCommands.Token.class,
                PkiEnrollCommands.Serve.class, PkiEnrollCommands.Enroll.class, PkiEnrollCommands.Renew.class})
final class PkiCommand {
    /** File stems: letters, digits, '.', '_' and '-'; no separators, no "..", not hidden. */
    private static final Pattern STEM = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}");
    private static final String STDOUT = "-";

    private PkiCommand() {}

    /** Options naming the CA folder. */
    static final class CaDir {
        @Option(names = "--ca-dir", required = true, description = "CA folder (ca.pem, ca-key.pem, index.tsv)")
        Path dir;

        @Option(names = "--ca-password-file", description = "file holding the CA key's password, if encrypted")
        Path passwordFile;

        /** The CA folder, its key's password read from {@code --ca-password-file}. */
        CaFolder folder() throws Exception {
            SecureFiles.requireNotDangling(dir);
            return CaFolder.of(dir, Secrets.read(passwordFile));
        }

        CertificateAuthority load() throws Exception {
            return folder().load();
        }

        /** Saves what {@code authority}, loaded from this folder, issued or revoked into its index. */
        void saveIndex(CertificateAuthority authority) throws IOException {
            CaFolder.of(dir, null).saveIndex(authority);
        }

        /** The CA folder's lock: held around a command's read-modify-write of the index. */
        Closeable lock() throws Exception {
            return folder().lock();
        }
    }

    static boolean isStdout(Path p) {
        return p != null && p.toString().equals(STDOUT);
    }

    /** Refuses an output path that is not a regular file, pointing at '-' for standard output. */
    static void requireFileTarget(Path p) {
        String kind = SecureFiles.nonRegular(p);
        if (kind != null) {
            throw new IllegalArgumentException("'" + p + "' is " + kind + ", not a regular file: fedlink will not "
                    + "replace it; give a regular file's path, or '-' for standard output");
        }
    }

    /** Refuses existing targets unless {@code force}, and the CA's own files always. */
    static void requireNew(List<Path> targets, boolean force, Path caDir) throws IOException {
        for (Path t : targets) {
            CaFolder.of(caDir, null).requireNotOwnFile(t, Set.of());
            requireFileTarget(t);
            if (!force && Files.exists(t)) {
                throw new IllegalArgumentException("'" + t + "' already exists: refusing to overwrite it; add --force "
                        + "to replace it (a replaced certificate of this CA is revoked as superseded)");
            }
        }
    }

    /**
     * Revokes (superseded) the certificate in {@code file} when it is an unrevoked certificate of this CA; returns
     * what to tell the operator, or {@code null} when there was no file.
     */
    static String supersede(CertificateAuthority authority, Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        BigInteger serial;
        try {
            serial = PemCodec.readCertificate(Files.readString(file, StandardCharsets.US_ASCII)).getSerialNumber();
        } catch (IOException | IllegalArgumentException e) {
            return "==> Replaced " + file + " (it held no certificate)";
        }
        if (!authority.revokeIfValid(serial, RevocationReason.SUPERSEDED)) { // in an overlap: revoked now
            return "==> Replaced " + file + " (serial " + serial.toString(16) + " is not a valid certificate of this "
                    + "CA: nothing to revoke)";
        }
        return "==> Revoked " + serial.toString(16) + " (superseded): the certificate " + file + " held";
    }

    static void saved(PrintWriter out, Path p) {
        out.println("==> Saved " + p);
    }

    @Command(name = "ca", mixinStandardHelpOptions = true, description = "CA folders.",
            subcommands = {Ca.Create.class, Ca.Rollover.class, Ca.Retire.class})
    static final class Ca {
        @Command(name = "rollover", mixinStandardHelpOptions = true,
                description = "Start replacing the root CA with no outage: a new root (same name constraints) issues "
                        + "from now on, cross-signed by the old one; the old CA is kept in <ca-dir>/previous-ca and "
                        + "ca-bundle.pem holds both roots until 'ca retire'.")
        static final class Rollover implements Callable<Integer> {
            @Spec
            CommandSpec spec;
            @Mixin
            CaDir ca;
            @Option(names = "--name", description = "the new root's common name (default: the old one + ' G2', "
                    + "or the next generation)")
            String name;
            @Option(names = "--key-type", converter = KeyTypes.class, description = "the new root's key type "
                    + "(default: the old root's)")
            KeyType keyType;
            @Option(names = "--days", defaultValue = "3650", description = "the new root's validity (default: "
                    + "${DEFAULT-VALUE})")
            int days;

            @Override
            public Integer call() throws Exception {
                if (days < 1 || days > 36500) {
                    throw new IllegalArgumentException("--days must be 1..36500, was " + days);
                }
                // refuses an encrypted key without its password, a damaged folder, before the lock
                X509Certificate oldRoot = ca.load().root();
                X509Certificate newRoot;
                try (Closeable lock = ca.lock()) {
                    newRoot = ca.folder().rollover(name, keyType, days);
                }
                PrintWriter out = spec.commandLine().getOut();
                out.println("==> New root " + newRoot.getSubjectX500Principal().getName() + " (serial "
                        + newRoot.getSerialNumber().toString(16) + ") issues from now on: "
                        + ca.dir.resolve(CaFolder.CERT_FILE));
                out.println("==> Old root " + oldRoot.getSubjectX500Principal().getName() + " kept in "
                        + ca.dir.resolve(CaFolder.PREVIOUS) + " (revoke and publish CRLs of its certificates there)");
                out.println("==> Trust bundle (both roots): " + ca.dir.resolve(CaFolder.BUNDLE)
                        + "; new certificates carry the new root cross-signed by the old one");
                out.println("Next: let every party renew ('fedlink pki renew', or its daemon), then 'fedlink pki ca "
                        + "retire --ca-dir " + ca.dir + "'");
                return 0;
            }
        }

        @Command(name = "retire", mixinStandardHelpOptions = true,
                description = "End a rollover: drop the old root from ca-bundle.pem once none of its certificates is "
                        + "still valid and unrevoked (they are named otherwise).")
        static final class Retire implements Callable<Integer> {
            @Spec
            CommandSpec spec;
            @Option(names = "--ca-dir", required = true, description = "CA folder")
            Path dir;
            @Option(names = "--revoke-superseded", description = "first revoke (superseded) the old root's "
                    + "certificates of parties that already renewed under the new CA")
            boolean revokeSuperseded;
            @Option(names = "--force", description = "retire even while certificates of the old root are valid")
            boolean force;

            @Override
            public Integer call() throws Exception {
                SecureFiles.requireNotDangling(dir);
                CaFolder.of(dir, null).retire(revokeSuperseded, force, java.time.Instant.now())
                        .forEach(spec.commandLine().getOut()::println);
                return 0;
            }
        }

        @Command(name = "create", mixinStandardHelpOptions = true,
                description = "Create a root CA in --ca-dir (refuses when any CA file is already there).")
        static final class Create implements Callable<Integer> {
            @Spec
            CommandSpec spec;
            @Mixin
            CaDir ca;
            @Option(names = "--name", defaultValue = "fedlink CA", description = "CA common name (default: ${DEFAULT-VALUE})")
            String name;
            @Option(names = "--key-type", defaultValue = "ec-p256", converter = KeyTypes.class,
                    description = "ec-p256, ec-p384, ec-p521, rsa-2048, rsa-3072, rsa-4096, ed25519 (default: ${DEFAULT-VALUE})")
            KeyType keyType;
            @Option(names = "--days", defaultValue = "3650", description = "validity (default: ${DEFAULT-VALUE})")
            int days;
            @Option(names = "--path-length", description = "intermediate CAs allowed below (default 1)")
            Integer pathLength;
            @Option(names = "--permit-dns", description = "only issue names in this domain (repeatable), e.g. fate.org")
            List<String> permit = new ArrayList<>();
            @Option(names = "--permit-ip", description = "with --permit-dns, also issue IP addresses in this block "
                    + "(repeatable), e.g. 10.0.0.0/8; without it the CA issues no IP address")
            List<String> permitIp = new ArrayList<>();
            @Option(names = "--permit-uri-domain", description = "with --permit-dns, also issue URIs whose host is in "
                    + "this domain (repeatable), e.g. fate.org for spiffe://fate.org/...")
            List<String> permitUri = new ArrayList<>();

            @Override
            public Integer call() throws Exception {
                if (isStdout(ca.dir)) {
                    throw new IllegalArgumentException("--ca-dir must be a folder, not '-'");
                }
                char[] password = Secrets.read(ca.passwordFile);
                CertificateAuthority.Builder b = CertificateAuthority.builder().commonName(name).keyType(keyType)
                        .days(days).permitDns(permit.toArray(String[]::new)).permitIp(permitIp.toArray(String[]::new))
                        .permitUriDomain(permitUri.toArray(String[]::new));
                if (pathLength != null) {
                    b.pathLength(pathLength);
                }
                CaFolder.of(ca.dir, password).create(b.create());
                PrintWriter out = spec.commandLine().getOut();
                saved(out, ca.dir.resolve(CaFolder.CERT_FILE));
                saved(out, ca.dir.resolve(CaFolder.KEY_FILE));
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
            @Option(names = "--file", description = "file name stem: <stem>.pem, <stem>-key.pem... (default: the name; "
                    + "letters, digits, '.', '_', '-')")
            String file;
            @Option(names = "--pkcs12", description = "also write <stem>.p12 (needs --password-file)")
            boolean pkcs12;
            @Option(names = "--jks", description = "also write <stem>.jks and truststore.jks (needs --password-file)")
            boolean jks;
            @Option(names = "--password-file", description = "file holding the key store password (mode 600)")
            Path passwordFile;
            @Option(names = "--out", description = "folder for the files (default: the CA folder); '-' prints the "
                    + "certificate and key (needs --print-key)")
            Path out;
            @Option(names = "--print-key", description = "consent to printing the private key with --out -")
            boolean printKey;
            @Option(names = "--force", description = "replace existing files; the replaced certificate is revoked "
                    + "(superseded)")
            boolean force;

            @Override
            public Integer call() throws Exception {
                CertificateRequest r = request();
                String stem = stem();
                boolean stdout = isStdout(out);
                if (stdout && (pkcs12 || jks)) {
                    throw new IllegalArgumentException("--pkcs12 and --jks write key store files: give --out a "
                            + "folder, not '-'");
                }
                if (stdout && !printKey) {
                    throw new IllegalArgumentException("--out - would print the private key: add --print-key to "
                            + "consent, or give --out a folder");
                }
                char[] pw = null;
                if (pkcs12 || jks) {
                    if (passwordFile == null) {
                        throw new IllegalArgumentException("--pkcs12 and --jks need --password-file FILE (the key "
                                + "store password, chmod 600)");
                    }
                    pw = Secrets.read(passwordFile);
                }
                try (Closeable lock = ca.lock()) {
                    return issue(r, stem, stdout, pw);
                }
            }

            private Integer issue(CertificateRequest r, String stem, boolean stdout, char[] pw) throws Exception {
                CertificateAuthority authority = ca.load();
                Path dir = out != null ? out : ca.dir;
                Map<Path, Boolean> targets = new LinkedHashMap<>(); // file -> secret
                if (!stdout) {
                    SecureFiles.requireNotDangling(dir);
                    targets.put(dir.resolve(stem + ".pem"), false);
                    targets.put(dir.resolve(stem + "-key.pem"), true);
                    if (pkcs12) {
                        targets.put(dir.resolve(stem + ".p12"), true);
                    }
                    if (jks) {
                        targets.put(dir.resolve(stem + ".jks"), true);
                        targets.put(dir.resolve("truststore.jks"), false);
                    }
                    requireNew(List.copyOf(targets.keySet()), force, ca.dir);
                }
                IssuedCertificate c = authority.issue(r); // with --party: recorded as the party's
                PrintWriter o = spec.commandLine().getOut();
                PrintWriter status = stdout ? spec.commandLine().getErr() : o;
                if (stdout) {
                    ca.saveIndex(authority);
                    o.print(c.privateKeyPem());
                    o.print(c.chainPem());
                    o.flush();
                } else {
                    String superseded = supersede(authority, dir.resolve(stem + ".pem"));
                    FileSet files = new FileSet();
                    for (Map.Entry<Path, Boolean> t : targets.entrySet()) {
                        files.add(t.getKey(), content(c, t.getKey(), stem, pw), t.getValue());
                    }
                    files.commit(() -> ca.saveIndex(authority));
                    files.targets().forEach(p -> saved(status, p));
                    if (superseded != null) {
                        status.println(superseded);
                    }
                }
                status.println("serial " + c.certificate().getSerialNumber().toString(16));
                return 0;
            }

            private CertificateRequest request() {
                if (party != null) {
                    if (!namesHosts(role)) {
                        throw new IllegalArgumentException("--party issues a server+client (peer) certificate; "
                                + "--role " + role.name().toLowerCase(java.util.Locale.ROOT) + " does not fit");
                    }
                    return CertificateRequest.party(party, domain).days(days).keyType(keyType);
                }
                if (name == null) {
                    throw new IllegalArgumentException("give --name or --party");
                }
                CertificateRequest r = namesHosts(role) // server and peer certificates name hosts
                        ? CertificateRequest.of(role).san(name) : CertificateRequest.of(role).commonName(name);
                sans.forEach(r::san);
                return r.days(days).keyType(keyType);
            }

            /** Whether {@code role}'s certificates authenticate servers, and so name hosts: server and peer. */
            private static boolean namesHosts(Profile role) {
                return role == Profile.SERVER || role == Profile.PEER;
            }

            private String stem() {
                String option = file != null ? "--file" : party != null ? "--party" : "--name";
                String s = file != null ? file : party != null
                        ? io.fedlink.api.PartyIds.canonical(party) + "." + domain.toLowerCase(java.util.Locale.ROOT)
                        : name;
                if (!STEM.matcher(s).matches() || s.contains("..")) {
                    throw new IllegalArgumentException("invalid file name '" + s + "' (from " + option + "): use "
                            + "letters, digits, '.', '_' and '-' only (no '/', no '..', not starting with '.', at "
                            + "most 200 characters); choose the file name with --file STEM");
                }
                for (String f : List.of(s + ".pem", s + "-key.pem", s + ".p12", s + ".jks")) {
                    if (CaFolder.OWN_FILES.contains(f)) {
                        throw new IllegalArgumentException(option + " '" + s + "' would write " + f + ", a file of the "
                                + "CA folder: choose another file name with --file STEM");
                    }
                }
                return s;
            }

            private byte[] content(IssuedCertificate c, Path target, String stem, char[] pw) throws Exception {
                String f = target.getFileName().toString();
                if (f.equals(stem + ".pem")) {
                    return c.chainPem().getBytes(StandardCharsets.US_ASCII);
                }
                if (f.equals(stem + "-key.pem")) {
                    return c.privateKeyPem().getBytes(StandardCharsets.US_ASCII);
                }
                if (f.equals(stem + ".p12")) {
                    return store(c.tlsMaterial().keyStore("PKCS12", stem, pw), pw);
                }
                if (f.equals(stem + ".jks")) {
                    return store(c.tlsMaterial().keyStore("JKS", stem, pw), pw);
                }
                return store(c.tlsMaterial().trustStore("JKS"), pw);
            }
        }
    }

    static byte[] store(KeyStore ks, char[] password) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ks.store(bytes, password);
        return bytes.toByteArray();
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
        @Option(names = "--out", required = true, description = "where to write the certificate chain (PEM); '-' "
                + "for standard output")
        Path out;
        @Option(names = "--force", description = "replace an existing file; its certificate is revoked (superseded)")
        boolean force;

        @Override
        public Integer call() throws Exception {
            String request = Files.readString(csr, StandardCharsets.US_ASCII);
            boolean stdout = isStdout(out);
            if (!stdout) {
                requireNew(List.of(out), force, ca.dir);
            }
            try (Closeable lock = ca.lock()) {
                return sign(request, stdout);
            }
        }

        private Integer sign(String request, boolean stdout) throws Exception {
            CertificateAuthority authority = ca.load();
            IssuedCertificate c = authority.signCsr(request, role, days);
            PrintWriter o = spec.commandLine().getOut();
            PrintWriter status = stdout ? spec.commandLine().getErr() : o;
            if (stdout) {
                ca.saveIndex(authority);
                o.print(c.chainPem());
                o.flush();
            } else {
                String superseded = supersede(authority, out);
                new FileSet().add(out, c.chainPem(), false).commit(() -> ca.saveIndex(authority));
                saved(status, out);
                if (superseded != null) {
                    status.println(superseded);
                }
            }
            status.println("serial " + c.certificate().getSerialNumber().toString(16));
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
            BigInteger s;
            try {
                s = new BigInteger(serial.replace(":", ""), 16);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid serial '" + serial + "': expected hex, as printed when "
                        + "the certificate was issued");
            }
            RevocationReason why = Parsing.revocationReason(reason);
            Path in = ca.folder().revoke(s, why); // during a rollover, a certificate of the old root: in its folder
            if (!in.equals(ca.dir)) {
                spec.commandLine().getOut().println("==> Revoked " + s.toString(16) + " (issued by the previous "
                        + "root; its CRL: 'fedlink pki crl --ca-dir " + in + "')");
                return 0;
            }
            spec.commandLine().getOut().println("==> Revoked " + s.toString(16));
            return 0;
        }
    }

    @Command(name = "party", mixinStandardHelpOptions = true, description = "Parties as the CA records them.",
            subcommands = {Party.Revoke.class})
    static final class Party {
        @Command(name = "revoke", mixinStandardHelpOptions = true,
                description = "Remove a party from the CA: revoke every unexpired certificate recorded for it, end "
                        + "its unused enrollment tokens, and write crl.pem. Its renewals are refused from now on; a "
                        + "token created afterwards lets it enroll again.")
        static final class Revoke implements Callable<Integer> {
            @Spec
            CommandSpec spec;
            @Mixin
            CaDir ca;
            @picocli.CommandLine.Parameters(paramLabel = "ID", description = "the party id")
            String party;

            @Override
            public Integer call() throws Exception {
                ca.load(); // fails naming a missing file or a missing --ca-password-file
                int n = ca.folder().revokeParty(party);
                PrintWriter out = spec.commandLine().getOut();
                out.println("==> Revoked " + n + " certificate(s) of party " + party + " (cessation-of-operation); "
                        + "its unused enrollment tokens no longer work");
                out.println("==> Saved " + ca.dir.resolve("crl.pem") + ": publish it to every relying party (one that "
                        + "does not check the CRL accepts the party's certificates until they expire)");
                return 0;
            }
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
        @Option(names = "--out", description = "file (default: <ca-dir>/crl.pem, or crl.der with --der); '-' for "
                + "standard output (PEM only)")
        Path out;

        @Override
        public Integer call() throws Exception {
            boolean stdout = isStdout(out);
            if (stdout && der) {
                throw new IllegalArgumentException("--der writes binary: give --out a file, or drop --der to print PEM");
            }
            Path file = out != null ? out : ca.dir.resolve(der ? "crl.der" : "crl.pem");
            if (!stdout) {
                CaFolder.of(ca.dir, null).requireNotOwnFile(file, Set.of("crl.pem", "crl.der"));
                requireFileTarget(file);
            }
            try (Closeable lock = ca.lock()) {
                return write(file, stdout);
            }
        }

        private Integer write(Path file, boolean stdout) throws Exception {
            CertificateAuthority authority = ca.load();
            var crl = authority.crl(Duration.ofDays(days));
            if (stdout) {
                ca.saveIndex(authority); // the CRL number advanced
                spec.commandLine().getOut().print(PemCodec.crl(crl));
                spec.commandLine().getOut().flush();
                return 0;
            }
            FileSet files = der ? new FileSet().add(file, crl.getEncoded(), false)
                    : new FileSet().add(file, PemCodec.crl(crl), false);
            files.commit(() -> ca.saveIndex(authority));
            saved(spec.commandLine().getOut(), file);
            return 0;
        }
    }

    /** Converts an option value with a parser whose refusal message becomes picocli's (no class names). */
    abstract static class Parsed<T> implements picocli.CommandLine.ITypeConverter<T> {
        private final Function<String, T> parser;

        Parsed(Function<String, T> parser) {
            this.parser = parser;
        }

        @Override
        public T convert(String value) {
            try {
                return parser.apply(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** Converts key-type option values. */
    static final class KeyTypes extends Parsed<KeyType> {
        KeyTypes() {
            super(Parsing::keyType);
        }
    }

    /** Converts role option values. */
    static final class Roles extends Parsed<Profile> {
        Roles() {
            super(Parsing::profile);
        }
    }
}
