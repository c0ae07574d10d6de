package io.fedlink.api;

import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * {@link TlsMaterial} that can change under live {@link SSLContext}s: after {@link #update(TlsMaterial)} every new
 * handshake of the contexts made here presents the new identity and verifies peers against the new trust anchors
 * (and CRLs); connections already open keep the session they negotiated. This is how a JSSE service picks up a
 * renewed certificate, a new CA bundle (rollover) or a fresh CRL without a restart.
 *
 * <pre>{@code
 * ReloadableTlsMaterial live = ReloadableTlsMaterial.of(initial);
 * SSLContext server = live.serverContext(ClientAuth.REQUIRED);   // hand it to the server once
 * ...
 * live.update(renewed);                                          // e.g. from the renewer's hook
 * }</pre>
 *
 * <p>The contexts carry fedlink's strict parameters like {@link TlsMaterial#serverContext}. Behind them sits one
 * plain JDK context per generation of the material; each new engine, client socket or accepted server socket is
 * made from the generation current at that moment, and an engine keeps its generation for life. A new generation
 * also has new session caches and session-ticket keys, so a client cannot resume, on a new connection, a session
 * made under the old identity or trust (it would skip the new trust check and show the old certificate): every new
 * connection after an update makes a full handshake. Thread-safe.
 */
public final class ReloadableTlsMaterial {
    private record Generation(long number, TlsMaterial material, SSLContext delegate) {}

    private final Object lock = new Object();
    private volatile Generation current;

    private ReloadableTlsMaterial(TlsMaterial initial) {
        this.current = generation(0, initial);
    }

    /** Starts with {@code initial}. */
    public static ReloadableTlsMaterial of(TlsMaterial initial) {
        return new ReloadableTlsMaterial(Objects.requireNonNull(initial, "initial"));
    }

    private static Generation generation(long number, TlsMaterial m) {
        return new Generation(number, m, ConfiguredSslContext.initialised(m.hasIdentity() ? m.keyManager() : null,
                m.trustAnchors().isEmpty() ? null : m.trustManager()));
    }

    /** The material new handshakes use. */
    public TlsMaterial current() {
        return current.material();
    }

    /** How many updates were applied. */
    public long generation() {
        return current.number();
    }

    /**
     * Makes {@code next} the material of every new handshake.
     *
     * @throws IllegalArgumentException when {@code next} drops the identity or the trust anchors that the current
     *                                  material has (contexts made from it rely on them), or changes the
     *                                  hostname-verification policy
     */
    public void update(TlsMaterial next) {
        Objects.requireNonNull(next, "next");
        synchronized (lock) {
            TlsMaterial now = current.material();
            if (now.hasIdentity() != next.hasIdentity() || now.trustAnchors().isEmpty() != next.trustAnchors().isEmpty()
                    || now.hostnameVerification() != next.hostnameVerification()) {
                throw new IllegalArgumentException("the new TLS material " + next + " does not have the shape of the "
                        + "current one " + now + ": an update must keep the identity, the trust anchors and the "
                        + "hostname-verification policy present as they are");
            }
            current = generation(current.number() + 1, next);
        }
    }

    /** A server context presenting the current identity at each handshake; see {@link TlsMaterial#serverContext}. */
    public SSLContext serverContext(ClientAuth clientAuth) {
        current().requireServerCapable(clientAuth);
        return ConfiguredSslContext.server(this::delegate, true, clientAuth);
    }

    /** A client context verifying servers against the current trust; see {@link TlsMaterial#clientContext}. */
    public SSLContext clientContext() {
        TlsMaterial m = current();
        if (m.trustAnchors().isEmpty()) {
            throw new IllegalStateException("this TLS material has no trust anchors; peers cannot be verified");
        }
        return ConfiguredSslContext.client(this::delegate, true,
                m.hostnameVerification() == HostnameVerification.STRICT);
    }

    private SSLContext delegate() {
        return current.delegate();
    }

    @Override
    public String toString() {
        return "ReloadableTlsMaterial[generation " + current.number() + ", " + current.material() + "]";
    }
}
