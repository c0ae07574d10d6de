package io.fedlink.registry;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.OptionsUtil;
import io.fedlink.api.HostNames;
import io.fedlink.api.PemCodec;
import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.internal.Pem;
import io.grpc.Status;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * A connection to an etcd cluster: its endpoints, the client identity for mutual TLS, and the deadline every call
 * gets. Every registry call goes through {@link #call}, so none can block without bound (etcd's client otherwise
 * waits forever for a put while the cluster is away).
 *
 * <p>Endpoints are a comma list of {@code http://host:port} or {@code https://host:port} URLs, all with one scheme;
 * {@code https} needs {@linkplain Builder#tls TLS material} (the etcd user is the client certificate's common name
 * when etcd runs with {@code --client-cert-auth}) and {@code http} refuses it. Server certificates are checked
 * against the material's trust anchors and the endpoint's host name.
 *
 * <pre>{@code
 * try (EtcdConnection etcd = EtcdConnection.builder()
 *         .endpoints("https://10.0.0.1:2379,https://10.0.0.2:2379")
 *         .tls(EtcdConnection.readTlsDir(Path.of("etcd-tls")))
 *         .build()) { ... }
 * }</pre>
 */
public final class EtcdConnection implements AutoCloseable {
    /** File names {@link #readTlsDir} reads first: the CA, the client certificate chain and its key. */
    public static final List<String> TLS_FILES = List.of("ca.pem", "cert.pem", "key.pem");

    /** gRPC's default inbound message limit, and this connection's default. */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 4 << 20;
    /** Keys asked for in one page of a {@linkplain #readPrefix paged read}, at most. */
    static final int PAGE_KEYS = 1000;
    private static final int READ_ATTEMPTS = 3;
    private static final Pattern GRPC_SIZE = Pattern.compile("exceeds maximum size (\\d+): (\\d+)");

    private final Client client;
    private final String endpoints;
    private final Duration timeout;
    private final int maxMessageBytes;

    private EtcdConnection(Builder b, List<URI> uris) throws SSLException {
        this.endpoints = b.endpoints;
        this.timeout = b.timeout;
        this.maxMessageBytes = b.maxMessageBytes;
        ClientBuilder cb = Client.builder().endpoints(uris.toArray(URI[]::new)).maxInboundMessageSize(maxMessageBytes)
                .connectTimeout(b.timeout).keepaliveTime(Duration.ofSeconds(10)).keepaliveTimeout(Duration.ofSeconds(2))
                .retryMaxDuration(b.timeout).waitForReady(false);
        if (b.tls != null) {
            TlsMaterial m = b.tls;
            cb.sslContext(ssl -> {
                ssl.protocols(TlsMaterial.PROTOCOLS).trustManager(m.trustAnchors().toArray(X509Certificate[]::new));
                if (m.hasIdentity()) {
                    ssl.keyManager(m.privateKey(), m.certificateChain().toArray(X509Certificate[]::new));
                }
            });
        }
        this.client = cb.build();
    }

    /** Starts a connection description. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads the client's TLS files from {@code dir}: {@code ca.pem} (the CA etcd's certificates chain to) and the
     * client certificate chain with its unencrypted PKCS#8 key, either as {@code cert.pem} and {@code key.pem} (as
     * {@code TlsFiles} writes them) or as the one {@code <name>.pem} and {@code <name>-key.pem} pair that
     * {@code fedlink pki cert create --name <name> --out DIR} writes.
     *
     * @throws IOException              naming a missing or unreadable file
     * @throws IllegalArgumentException when a file holds no usable certificate or key
     */
    public static TlsMaterial readTlsDir(Path dir) throws IOException {
        String ca = readTlsFile(dir, TLS_FILES.get(0));
        String name = identityName(dir);
        String cert = readTlsFile(dir, name + ".pem");
        String key = readTlsFile(dir, name.equals("cert") ? TLS_FILES.get(2) : name + "-key.pem");
        try {
            return TlsMaterial.builder().trust(PemCodec.readCertificates(ca)).identity(Pem.privateKey(key, null),
                    PemCodec.readCertificates(cert)).build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("etcd TLS files in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** {@code cert} for the cert.pem/key.pem layout, else the one {@code <name>} with a {@code <name>-key.pem}. */
    private static String identityName(Path dir) throws IOException {
        if (Files.exists(dir.resolve(TLS_FILES.get(1)))) {
            return "cert";
        }
        List<String> names = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (var files = Files.list(dir)) {
                files.map(p -> p.getFileName().toString())
                        .filter(f -> f.endsWith("-key.pem") && !f.equals("ca-key.pem"))
                        .forEach(f -> names.add(f.substring(0, f.length() - "-key.pem".length())));
            }
        }
        if (names.size() != 1) {
            throw new NoSuchFileException(dir + ": expected ca.pem with cert.pem and key.pem, or ca.pem with one "
                    + "<name>.pem and <name>-key.pem pair" + (names.isEmpty() ? "" : "; found keys for " + names));
        }
        return names.get(0);
    }

    private static String readTlsFile(Path dir, String name) throws IOException {
        try {
            return Files.readString(dir.resolve(name), StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(dir.resolve(name) + " (needed for the etcd client's TLS)");
        }
    }

    /** The jetcd client (owned by this connection). */
    public Client client() {
        return client;
    }

    /** The endpoints as given. */
    public String endpoints() {
        return endpoints;
    }

    /** The deadline of each call. */
    public Duration timeout() {
        return timeout;
    }

    /** The largest message accepted from etcd, in bytes. */
    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    /**
     * The keys and values under {@code prefix}, all as of one revision, read in pages (at most {@value #PAGE_KEYS}
     * keys each, fewer while a page is over {@link #maxMessageBytes()}), so a prefix of any total size can be read.
     * The first page fixes the revision and the others are read at it; when etcd compacts that revision away
     * meanwhile, the read starts again (a few times).
     *
     * @param what   names the operation in errors ("read federation 'fl'")
     * @param prefix the key prefix
     * @throws RegistryUnavailableException when etcd does not answer in time or cannot be reached
     * @throws RegistryRefusedException     when etcd refuses this identity
     * @throws RegistryTooLargeException    when one value alone is larger than {@link #maxMessageBytes()}
     * @throws IllegalStateException        when etcd fails the read otherwise
     */
    public PrefixRead readPrefix(String what, String prefix) throws RegistryUnavailableException {
        ByteSequence start = RegistryKeys.bytes(prefix);
        ByteSequence end = OptionsUtil.prefixEndOf(start);
        for (int attempt = 1; ; attempt++) {
            try {
                return readPages(what, start, end);
            } catch (IllegalStateException e) {
                if (attempt == READ_ATTEMPTS || !code(e.getCause()).equals(Status.Code.OUT_OF_RANGE.name())) {
                    throw e;
                }
            }
        }
    }

    private PrefixRead readPages(String what, ByteSequence start, ByteSequence end)
            throws RegistryUnavailableException {
        List<KeyValue> all = new ArrayList<>();
        long revision = 0;
        int limit = PAGE_KEYS;
        ByteSequence from = start;
        while (true) {
            GetOption.Builder o = GetOption.builder().withRange(end).withLimit(limit);
            if (revision != 0) {
                o.withRevision(revision);
            }
            GetResponse page;
            try {
                page = call(what, client.getKVClient().get(from, o.build()));
            } catch (RegistryTooLargeException e) {
                if (limit == 1) {
                    throw tooLarge(what + " (one value alone: the first key " + (all.isEmpty() ? "under "
                            + HostNames.quote(RegistryKeys.string(start)) : "after " + HostNames.quote(RegistryKeys
                            .string(all.get(all.size() - 1).getKey()))) + ")", e.getCause());
                }
                limit = Math.max(1, limit / 2);
                continue;
            }
            if (revision == 0) {
                revision = page.getHeader().getRevision();
            }
            List<KeyValue> kvs = page.getKvs();
            all.addAll(kvs);
            if (!page.isMore() || kvs.isEmpty()) {
                return new PrefixRead(List.copyOf(all), revision);
            }
            byte[] last = kvs.get(kvs.size() - 1).getKey().getBytes();
            from = ByteSequence.from(Arrays.copyOf(last, last.length + 1)); // the next key after the last one
            limit = Math.min(PAGE_KEYS, limit * 2);
        }
    }

    /**
     * The result of a {@linkplain #readPrefix paged read}.
     *
     * @param kvs      every key and value under the prefix, in key order
     * @param revision the etcd revision they were all read at
     */
    public record PrefixRead(List<KeyValue> kvs, long revision) {}

    /**
     * Waits for an etcd call with this connection's deadline.
     *
     * @param what names the operation in errors ("read federation 'fl'")
     * @throws RegistryUnavailableException when etcd does not answer in time or cannot be reached
     * @throws RegistryRefusedException     when etcd refuses the call for this identity
     * @throws RegistryTooLargeException    when etcd's answer is larger than {@link #maxMessageBytes()}
     * @throws IllegalStateException        when etcd fails the call otherwise
     */
    public <T> T call(String what, CompletableFuture<T> future) throws RegistryUnavailableException {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw unavailable(what, "no answer within " + timeout.toMillis() + " ms", e);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw unavailable(what, "interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            String code = code(c);
            if (code.equals(ErrorCode.PERMISSION_DENIED.name()) || code.equals(ErrorCode.UNAUTHENTICATED.name())) {
                throw new RegistryRefusedException("etcd refused to " + what + ": "
                        + (code.equals(ErrorCode.PERMISSION_DENIED.name()) ? "permission denied" : "not authenticated")
                        + " for this identity (the etcd user is the client certificate's common name; check its "
                        + "roles with 'etcdctl user get')", c);
            }
            if (code.equals(ErrorCode.RESOURCE_EXHAUSTED.name()) && c.getMessage() != null
                    && c.getMessage().contains("exceeds maximum size")) {
                throw tooLarge(what, c);
            }
            if (code.equals(ErrorCode.UNAVAILABLE.name()) || code.equals(ErrorCode.DEADLINE_EXCEEDED.name())
                    || code.equals(ErrorCode.CANCELLED.name()) || code.equals(ErrorCode.UNKNOWN.name())) {
                // UNKNOWN: no gRPC answer at all (a member shutting down answers plain HTTP), so not etcd's refusal
                throw unavailable(what, c.getMessage(), c);
            }
            throw new IllegalStateException("etcd could not " + what + ": " + c.getMessage(), c);
        }
    }

    /** The gRPC or etcd status code name of a failure ("" when there is none). */
    private static String code(Throwable c) {
        if (c == null) {
            return "";
        }
        return c instanceof EtcdException ee ? ee.getErrorCode().name() : Status.fromThrowable(c).getCode().name();
    }

    private RegistryTooLargeException tooLarge(String what, Throwable c) {
        Matcher m = GRPC_SIZE.matcher(c.getMessage());
        long size = m.find() ? Long.parseLong(m.group(2)) : -1;
        return new RegistryTooLargeException("etcd's answer to " + what + " is too large: "
                + (size < 0 ? "more than" : size + " bytes, over") + " the " + maxMessageBytes + " bytes this client "
                + "accepts in one message; raise the limit (EtcdConnection.Builder.maxMessageBytes, fedlink "
                + "--etcd-max-message BYTES) or store smaller values", size, maxMessageBytes, c);
    }

    private RegistryUnavailableException unavailable(String what, String why, Throwable cause) {
        return new RegistryUnavailableException("etcd at " + endpoints + " is unreachable: could not " + what + " ("
                + why + "); check that etcd runs and the endpoints and TLS files are right", cause);
    }

    @Override
    public void close() {
        client.close();
    }

    /** Collects the endpoints, TLS material and deadline. */
    public static final class Builder {
        private String endpoints;
        private TlsMaterial tls;
        private Duration timeout = Duration.ofSeconds(5);
        private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;

        private Builder() {}

        /**
         * The largest message accepted from etcd (default 4 MiB, gRPC's default; 64 KiB to 256 MiB). Full reads are
         * paged, so this bounds one value or one watch event, not the registry.
         */
        public Builder maxMessageBytes(int bytes) {
            if (bytes < (64 << 10) || bytes > (256 << 20)) {
                throw new IllegalArgumentException("invalid etcd message limit " + bytes + " bytes: must be 65536.."
                        + (256 << 20));
            }
            this.maxMessageBytes = bytes;
            return this;
        }

        /** Comma list of {@code http://} or {@code https://} URLs (required). */
        public Builder endpoints(String commaList) {
            this.endpoints = commaList;
            return this;
        }

        /** Trust anchors and client identity for {@code https} endpoints. */
        public Builder tls(TlsMaterial material) {
            this.tls = material;
            return this;
        }

        /** Deadline of each call and of connecting (default 5 s). */
        public Builder timeout(Duration deadline) {
            if (deadline.isNegative() || deadline.isZero()) {
                throw new IllegalArgumentException("invalid etcd timeout " + deadline + ": must be positive");
            }
            this.timeout = deadline;
            return this;
        }

        /**
         * Validates the endpoints and builds the client (it connects lazily).
         *
         * @throws IllegalArgumentException naming a bad endpoint or a scheme/TLS mismatch
         */
        public EtcdConnection build() {
            List<URI> uris = parseEndpoints(endpoints);
            boolean https = uris.get(0).getScheme().equals("https");
            if (https && tls == null) {
                throw new IllegalArgumentException("https etcd endpoints need the TLS files (--etcd-tls DIR with "
                        + String.join(", ", TLS_FILES) + ")");
            }
            if (!https && tls != null) {
                throw new IllegalArgumentException("TLS files given but the etcd endpoints are http://: use "
                        + "https:// endpoints");
            }
            try {
                return new EtcdConnection(this, uris);
            } catch (SSLException e) {
                throw new IllegalArgumentException("etcd TLS material not usable: " + e.getMessage(), e);
            }
        }

        static List<URI> parseEndpoints(String commaList) {
            if (commaList == null || commaList.isBlank()) {
                throw new IllegalArgumentException("no etcd endpoints: give a comma list of http:// or https:// URLs");
            }
            List<URI> out = new ArrayList<>();
            String scheme = null;
            for (String part : commaList.split(",", -1)) {
                String s = part.strip();
                URI u;
                try {
                    u = new URI(s);
                } catch (URISyntaxException e) {
                    throw new IllegalArgumentException("invalid etcd endpoint " + HostNames.quote(s) + ": "
                            + e.getReason());
                }
                if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null
                        || u.getPort() < 1 || !(u.getPath() == null || u.getPath().isEmpty() || u.getPath().equals("/"))
                        || u.getQuery() != null || u.getUserInfo() != null) {
                    throw new IllegalArgumentException("invalid etcd endpoint " + HostNames.quote(s)
                            + ": expected http://host:port or https://host:port");
                }
                if (scheme != null && !scheme.equals(u.getScheme())) {
                    throw new IllegalArgumentException("etcd endpoints mix http and https: "
                            + HostNames.quote(commaList));
                }
                scheme = u.getScheme();
                out.add(u);
            }
            return out;
        }
    }

    @Override
    public String toString() {
        return "etcd " + endpoints;
    }
}
