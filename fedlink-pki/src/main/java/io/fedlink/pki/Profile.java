package io.fedlink.pki;

/**
 * What an end-entity certificate is for; decides its extended key usage and which names it must carry.
 *
 * <ul>
 *   <li>{@link #SERVER}: TLS server ({@code serverAuth}); needs at least one DNS or IP name. Pulsar brokers, the
 *       proxy, etcd's client port, Flink REST.</li>
 *   <li>{@link #CLIENT}: TLS client ({@code clientAuth}). etcdctl, Pulsar clients with mutual TLS.</li>
 *   <li>{@link #PEER}: both ({@code serverAuth} and {@code clientAuth}); needs a DNS or IP name. etcd members,
 *       Flink internal connections, Consul agents.</li>
 *   <li>{@link #CLI}: a command-line tool's client certificate ({@code clientAuth}).</li>
 * </ul>
 */
public enum Profile {
    /** serverAuth. */
    SERVER(true, false),
    /** clientAuth. */
    CLIENT(false, true),
    /** serverAuth and clientAuth. */
    PEER(true, true),
    /** clientAuth, for command-line tools. */
    CLI(false, true);

    private final boolean serverAuth;
    private final boolean clientAuth;

    Profile(boolean serverAuth, boolean clientAuth) {
        this.serverAuth = serverAuth;
        this.clientAuth = clientAuth;
    }

    /** Whether the certificate may authenticate a TLS server. */
    boolean serverAuth() {
        return serverAuth;
    }

    /** Whether the certificate may authenticate a TLS client. */
    boolean clientAuth() {
        return clientAuth;
    }
}
