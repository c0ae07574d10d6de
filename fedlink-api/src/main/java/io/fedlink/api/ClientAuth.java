package io.fedlink.api;

/** Whether a TLS server asks its clients for a certificate. */
public enum ClientAuth {
    /** Do not ask. */
    NONE,
    /** Ask, and verify a certificate if one is sent, but accept clients without one. */
    OPTIONAL,
    /** Ask, and refuse a client without a valid certificate (etcd's {@code --client-cert-auth}). */
    REQUIRED
}
