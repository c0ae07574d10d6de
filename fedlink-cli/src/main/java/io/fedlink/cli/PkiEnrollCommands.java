package io.fedlink.cli;

import io.fedlink.cli.support.Durations;
import io.fedlink.cli.support.Secrets;
import io.fedlink.api.Endpoint;
import io.fedlink.api.HostNames;
import io.fedlink.api.PartyIds;
import io.fedlink.api.PemCodec;
import io.fedlink.api.SecureFiles;
import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CaFolder;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.EnrollmentAuthority;
import io.fedlink.pki.KeyType;
import io.fedlink.pki.enroll.EnrollmentClient;
import io.fedlink.pki.enroll.EnrollmentServer;
import io.fedlink.pki.enroll.PartyFiles;
import io.fedlink.pki.enroll.Renewer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Enrollment and renewal from the command line: {@code pki token create} (CA side: a one-time token bound to a
 * party), {@code pki serve} (CA side: the HTTPS enrollment endpoint), {@code pki enroll} (party side: a key made
 * here, a CSR and the token give the certificate files) and {@code pki renew} (once, or as a daemon). Tokens come
 * only from files (mode 600) or standard input, never from the command line.
 */
final class PkiEnrollCommands {
    private static final Duration MAX_TTL = Duration.ofDays(30);

    private PkiEnrollCommands() {}

    /** Options naming the enrollment server. */
    static final class ServerOption {
        @Option(names = "--server", required = true, description = "the CA's enrollment endpoint, https://HOST:PORT")
        URI server;

        EnrollmentClient client() {
            return new EnrollmentClient(server);
        }
    }

    /** {@code --pkcs12 --password-file F}: key and trust stores beside the PEM files. */
    static final class Pkcs12Option {
        @Option(names = "--pkcs12", description = "also write current/keystore.p12 and current/truststore.p12 (needs "
                + "--password-file), for Flink-style consumers")
        boolean pkcs12;
        @Option(names = "--password-file", description = "file holding the key store password (mode 600)")
        Path passwordFile;

        PartyFiles files(Path dir) throws IOException {
            if (pkcs12 != (passwordFile != null)) {
                throw new IllegalArgumentException("--pkcs12 and --password-file FILE go together (the key store "
                        + "password, chmod 600)");
            }
            PartyFiles files = new PartyFiles(dir);
            return pkcs12 ? files.withPkcs12(Secrets.read(passwordFile)) : files;
        }
    }

    @Command(name = "token", mixinStandardHelpOptions = true, description = "One-time enrollment tokens (CA side).",
            subcommands = TokenCreate.class)
    static final class Token {}

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a one-time enrollment token bound to a party; it is shown once.")
    static final class TokenCreate implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--ca-dir", required = true, description = "CA folder")
        Path caDir;
        @Option(names = "--party", required = true, description = "the party id the token enrolls, e.g. 9999")
        String party;
        @Option(names = "--ttl", defaultValue = "1h", converter = Durations.class,
                description = "how long the token may be used (default: ${DEFAULT-VALUE}, at most 720h)")
        Duration ttl;
        @Option(names = "--out", description = "write the token to this new file (mode 600) instead of printing it")
        Path out;

        @Override
        public Integer call() throws Exception {
            Durations.check(spec.commandLine(), "--ttl", ttl, false, MAX_TTL, "720h");
            if (!Files.isRegularFile(caDir.resolve(CaFolder.CERT_FILE))) {
                throw new IllegalArgumentException("'" + caDir + "' holds no ca.pem: give the CA folder made by "
                        + "'fedlink pki ca create'");
            }
            if (out != null && (Files.exists(out) || SecureFiles.nonRegular(out) != null)) {
                throw new IllegalArgumentException("'" + out + "' already exists: a token file is written once; "
                        + "choose a new path");
            }
            String id = PartyIds.canonical(party); // the one form the CA records and issues
            CaFolder folder = CaFolder.of(caDir, null);
            String token = folder.createToken(id, ttl);
            if (out == null) {
                spec.commandLine().getOut().println(token);
            } else {
                SecureFiles.writePrivate(out, token + "\n");
                spec.commandLine().getErr().println("==> Saved " + out);
            }
            Path caFile = folder.trustFile(); // during a rollover: both roots
            spec.commandLine().getErr().println("==> Token for party " + id + ", valid " + ttl.toMinutes()
                    + " min, one use: hand it to the party with the CA certificate " + caFile);
            return 0;
        }
    }

    @Command(name = "serve", mixinStandardHelpOptions = true,
            description = "Serve enrollment and renewal over HTTPS (CA side) until stopped.")
    static final class Serve implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        PkiCommand.CaDir ca;
        @Option(names = "--domain", required = true, description = "the federation's domain, e.g. fate.org")
        String domain;
        @Option(names = "--listen", defaultValue = "127.0.0.1:8443",
                description = "address to listen on (default: ${DEFAULT-VALUE})")
        String listen;
        @Option(names = "--name", description = "DNS name of this endpoint in its certificate (default: ca.<domain>)")
        String name;
        @Option(names = "--ip", description = "IP address of this endpoint in its certificate (repeatable)")
        List<String> ips = List.of();
        @Option(names = "--max-lifetime", defaultValue = "24h", converter = Durations.class,
                description = "longest certificate lifetime issued (default: ${DEFAULT-VALUE})")
        Duration maxLifetime;
        @Option(names = "--request-timeout", defaultValue = "10s", converter = Durations.class,
                description = "time a client has from its connect to the end of its request headers (default: "
                        + "${DEFAULT-VALUE})")
        Duration requestTimeout;
        @Option(names = "--handshake-timeout", defaultValue = "5s", converter = Durations.class,
                description = "time a client has from its connect to the end of its TLS handshake (default: "
                        + "${DEFAULT-VALUE})")
        Duration handshakeTimeout;
        @Option(names = "--body-timeout", defaultValue = "10s", converter = Durations.class,
                description = "time a client has to send its body after the headers, and to read the answer "
                        + "(default: ${DEFAULT-VALUE})")
        Duration bodyTimeout;
        @Option(names = "--max-connections-per-address", defaultValue = "8", description = "connections open at "
                + "once from one source address; more are closed at once (default: ${DEFAULT-VALUE})")
        int perAddress;
        @Option(names = "--max-connections", defaultValue = "512", description = "connections open at once in all "
                + "(default: ${DEFAULT-VALUE})")
        int maxConnections;
        @Option(names = "--workers", defaultValue = "4", description = "threads signing complete requests; up to 8 "
                + "per worker wait, more are answered 503 (default: ${DEFAULT-VALUE})")
        int workers;
        @Option(names = "--supersede-overlap", defaultValue = "10m", converter = Durations.class,
                description = "how long a renewed certificate stays unrevoked, so services reload (default: "
                        + "${DEFAULT-VALUE})")
        Duration overlap;
        @Option(names = "--renewals-per-hour", defaultValue = "6",
                description = "renewals a party may make per hour; more are refused (default: ${DEFAULT-VALUE})")
        int renewalsPerHour;

        @Override
        public Integer call() throws Exception {
            Durations.check(spec.commandLine(), "--max-lifetime", maxLifetime, false, Duration.ofDays(30), "720h");
            Durations.check(spec.commandLine(), "--supersede-overlap", overlap, true, Duration.ofDays(1), "24h");
            Durations.check(spec.commandLine(), "--request-timeout", requestTimeout, false, Duration.ofMinutes(5),
                    "5m");
            Durations.check(spec.commandLine(), "--handshake-timeout", handshakeTimeout, false,
                    Duration.ofMinutes(5), "5m");
            Durations.check(spec.commandLine(), "--body-timeout", bodyTimeout, false, Duration.ofMinutes(5), "5m");
            EnrollmentServer.Limits limits = EnrollmentServer.Limits.of(perAddress, maxConnections, workers,
                    handshakeTimeout, requestTimeout, bodyTimeout); // a bad count is refused here, naming the limit
            InetSocketAddress bind = address(listen);
            ca.load(); // refuses an encrypted key without its password, a damaged folder
            CertificateRequest endpoint = CertificateRequest.server(name == null ? "ca." + domain : name).days(30);
            ips.forEach(endpoint::ip);
            EnrollmentAuthority authority = EnrollmentAuthority.forFolder(ca.dir, Secrets.read(ca.passwordFile),
                    domain, maxLifetime).renewalRules(overlap, renewalsPerHour, Duration.ofHours(1));
            CountDownLatch stopped = new CountDownLatch(1);
            try (EnrollmentServer server = EnrollmentServer.start(authority, endpoint, bind, limits)) {
                // on SIGTERM too, the endpoint's certificate is revoked, so it never holds back a 'ca retire'
                Thread hook = new Thread(server::close, "fedlink-serve-stop");
                Runtime.getRuntime().addShutdownHook(hook);
                try {
                    spec.commandLine().getErr().println("==> Serving enrollment for *." + HostNames.canonicalDnsName(domain)
                            + " on https://" + listen + " (certificates up to " + maxLifetime.toMinutes()
                            + " min; at most " + perAddress + " connections per address); stop with Ctrl-C");
                    EnrollmentServer.Refusals shown = server.refusals();
                    while (!stopped.await(1, TimeUnit.MINUTES)) {
                        if (!server.refusals().equals(shown)) { // a summary a minute at most, only on change
                            shown = server.refusals();
                            spec.commandLine().getErr().println("==> Refused so far: " + shown);
                        }
                    }
                } finally {
                    try {
                        Runtime.getRuntime().removeShutdownHook(hook);
                    } catch (IllegalStateException shuttingDown) {
                        // the hook is running
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 0;
        }
    }

    /** The {@code --listen} address: an IP literal and a port (parsed as {@link Endpoint}; never a name lookup). */
    static InetSocketAddress address(String hostPort) {
        try {
            InetSocketAddress a = Endpoint.parse(hostPort).toSocketAddress();
            if (!a.isUnresolved()) {
                return a;
            }
        } catch (IllegalArgumentException e) {
            // named below, with the fix
        }
        throw new IllegalArgumentException("invalid --listen '" + hostPort + "': use IP:PORT, e.g. 0.0.0.0:8443");
    }

    @Command(name = "enroll", mixinStandardHelpOptions = true,
            description = "Make a key here, send a CSR with the one-time token and write the certificate files.")
    static final class Enroll implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ServerOption server;
        @Option(names = "--ca-file", required = true, description = "the CA certificate handed out with the token")
        Path caFile;
        @Option(names = "--token-file", required = true, description = "file holding the token (mode 600); '-' "
                + "reads it from standard input")
        Path tokenFile;
        @Option(names = "--party", required = true, description = "this party's id, e.g. 9999")
        String party;
        @Option(names = "--domain", required = true, description = "the federation's domain, e.g. fate.org")
        String domain;
        @Option(names = "--key-type", defaultValue = "ec-p256", converter = PkiCommand.KeyTypes.class,
                description = "key type (default: ${DEFAULT-VALUE})")
        KeyType keyType;
        @Option(names = "--lifetime", converter = Durations.class, description = "lifetime asked for (default: the "
                + "CA's maximum)")
        Duration lifetime;
        @Option(names = "--out", required = true, description = "folder of the certificate files (current/cert.pem, "
                + "current/key.pem, current/ca.pem)")
        Path out;
        @Mixin
        Pkcs12Option pkcs12;

        @Override
        public Integer call() throws Exception {
            PartyFiles files = pkcs12.files(out);
            if (Files.exists(files.current(PartyFiles.CERT))) { // an identity was written
                throw new IllegalArgumentException("'" + out + "' already holds an identity: renew it with 'fedlink "
                        + "pki renew', or choose another --out");
            }
            String token = PkiCommand.isStdout(tokenFile)
                    ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine()
                    : new String(Secrets.read(tokenFile));
            if (token == null || token.isBlank()) {
                throw new IllegalArgumentException("no token on standard input: pipe the token file in");
            }
            TlsMaterial trust = TlsMaterial.builder().trust(PemCodec.readCertificates(
                    Files.readString(caFile, StandardCharsets.US_ASCII))).build();
            TlsMaterial issued = server.client().enroll(trust, token, party, domain, keyType, lifetime);
            files.write(issued);
            report(spec, "Enrolled", issued, out);
            return 0;
        }
    }

    static void report(CommandSpec spec, String what, TlsMaterial m, Path dir) {
        spec.commandLine().getErr().println("==> " + what + " " + m.certificate().getSubjectX500Principal().getName()
                + ": serial " + m.certificate().getSerialNumber().toString(16) + ", valid until "
                + m.certificate().getNotAfter().toInstant() + "; files in " + dir.resolve(PartyFiles.CURRENT));
    }

    @Command(name = "renew", mixinStandardHelpOptions = true,
            description = "Renew the party's certificate now, or keep renewing it (--daemon) at 2/3 of its lifetime.")
    static final class Renew implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ServerOption server;
        @Option(names = "--dir", required = true, description = "the folder 'fedlink pki enroll' wrote")
        Path dir;
        @Option(names = "--lifetime", converter = Durations.class, description = "lifetime asked for (default: the "
                + "CA's maximum)")
        Duration lifetime;
        @Option(names = "--daemon", description = "keep running and renew at about 2/3 of each lifetime")
        boolean daemon;
        @Option(names = "--hook", description = "command run (by sh -c) after each renewal, e.g. a reload")
        String hook;
        @Mixin
        Pkcs12Option pkcs12;

        @Override
        public Integer call() throws Exception {
            PartyFiles files = pkcs12.files(dir);
            files.read(); // refuses early when nothing was enrolled
            Consumer<TlsMaterial> after = m -> {
                report(spec, "Renewed", m, dir);
                runHook(hook, files);
            };
            try (Renewer renewer = Renewer.of(server.client(), files, lifetime, after)) {
                if (!daemon) {
                    renewer.renewNow();
                    return 0;
                }
                Instant first = renewer.start();
                spec.commandLine().getErr().println("==> Renewing " + files.current(PartyFiles.CERT) + "; next at "
                        + first + "; stop with Ctrl-C");
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 0;
        }
    }

    /** Runs {@code hook} by {@code sh -c} with the file paths in its environment; a failure is only reported. */
    static void runHook(String hook, PartyFiles files) {
        if (hook == null) {
            return;
        }
        try {
            ProcessBuilder pb = new ProcessBuilder("sh", "-c", hook).inheritIO();
            pb.environment().put("FEDLINK_CERT", files.current(PartyFiles.CERT).toString());
            pb.environment().put("FEDLINK_KEY", files.current(PartyFiles.KEY).toString());
            pb.environment().put("FEDLINK_CA", files.current(PartyFiles.CA).toString());
            pb.environment().put("FEDLINK_KEYSTORE", files.current(PartyFiles.KEYSTORE).toString());
            pb.environment().put("FEDLINK_TRUSTSTORE", files.current(PartyFiles.TRUSTSTORE).toString());
            Process p = pb.start();
            if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                System.err.println("fedlink: the hook '" + hook + "' failed or timed out; the new files are in place");
            }
        } catch (IOException e) {
            System.err.println("fedlink: cannot run the hook '" + hook + "': " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
