package io.fedlink.api;

/**
 * Whether a TLS client checks that the server's certificate names the host it dialled.
 *
 * <p>{@link #STRICT} is the default everywhere in fedlink. The only opt-out is explicit and says why it exists:
 * Flink's internal connections authenticate every process with one shared certificate that cannot name them all,
 * so trust rests on the certificate itself (mutual TLS against a dedicated trust store), not on its name.
 */
public enum HostnameVerification {
    /** RFC 2818 / RFC 6125 matching of the dialled host against the certificate's subject alternative names. */
    STRICT,
    /**
     * No name check: only for a dedicated trust store whose sole anchor is a certificate shared by all peers
     * (Flink's {@code security.ssl.internal.*}). Never use it with a CA that issues certificates to others.
     */
    DISABLED_FOR_SHARED_CERTIFICATE
}
