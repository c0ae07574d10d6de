package io.fedlink.cli.support;

import io.fedlink.api.RouteSource;
import io.fedlink.registry.EtcdConnection;
import io.fedlink.registry.EtcdRouteSource;
import io.fedlink.registry.RegistryKeys;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The options that reach a federation in etcd, shared by {@code fedlink federation ...} and (as a mixin) by
 * {@code fedlink proxy --etcd URLS --federation NAME}: endpoints, the client TLS folder, the federation name, its key
 * prefix, the per-call deadline and the message limit. A proxy wires it with {@link #routeSource}.
 */
public final class EtcdOptions {
    @Option(names = "--etcd", paramLabel = "URLS",
            description = "etcd endpoints, a comma list of http:// or https:// URLs")
    String endpoints;
    @Option(names = "--etcd-tls", paramLabel = "DIR",
            description = "folder with the etcd client's TLS files: ca.pem and cert.pem/key.pem, or ca.pem and the "
                    + "<name>.pem/<name>-key.pem pair 'fedlink pki cert create' writes (the etcd user is the "
                    + "certificate's common name)")
    Path tlsDir;
    @Option(names = "--federation", paramLabel = "NAME", description = "federation name (letters, digits, '-', '_')")
    String federation;
    @Option(names = "--etcd-prefix", paramLabel = "PREFIX",
            description = "key prefix of the federation (default: /fedlink/<federation>/)")
    String prefix;
    @Option(names = "--etcd-timeout", defaultValue = "5s", converter = Durations.class,
            description = "deadline of each etcd call (default: ${DEFAULT-VALUE})")
    Duration timeout;
    @Option(names = "--etcd-max-message", paramLabel = "BYTES", defaultValue = "4194304",
            description = "largest message accepted from etcd (default: ${DEFAULT-VALUE}, gRPC's default; reads are "
                    + "paged, so this bounds one value or one watch event, not the registry)")
    int maxMessageBytes = EtcdConnection.DEFAULT_MAX_MESSAGE_BYTES;

    /** The {@code --federation} name as given, or {@code null}. */
    public String federation() {
        return federation;
    }

    /** Whether {@code --etcd} was given. */
    public boolean given() {
        return endpoints != null;
    }

    /** The federation's key layout. */
    public RegistryKeys keys() {
        if (federation == null) {
            throw new IllegalArgumentException("give --federation NAME");
        }
        return prefix == null ? RegistryKeys.of(federation) : new RegistryKeys(federation, prefix);
    }

    /** Opens the connection (lazily connecting). */
    public EtcdConnection connect() throws IOException {
        if (endpoints == null) {
            throw new IllegalArgumentException("give --etcd URLS: a comma list of http:// or https:// etcd endpoints");
        }
        keys();
        return EtcdConnection.builder().endpoints(endpoints).timeout(timeout).maxMessageBytes(maxMessageBytes)
                .tls(tlsDir == null ? null : EtcdConnection.readTlsDir(tlsDir)).build();
    }

    /**
     * The proxy's route source: the federation's routes, kept current from {@link RouteSource#start()} until it is
     * closed (which also closes its connection). Its start fails when etcd is unreachable and {@code cacheFile}
     * ({@code null} for none) does not exist.
     */
    public EtcdRouteSource routeSource(Path cacheFile) throws IOException {
        return EtcdRouteSource.builder(connect(), keys()).cacheFile(cacheFile).ownsConnection(true).build();
    }
}
