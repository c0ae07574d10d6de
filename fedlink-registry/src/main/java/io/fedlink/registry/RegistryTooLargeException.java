package io.fedlink.registry;

/**
 * etcd answered, but with a message larger than this client accepts ({@link EtcdConnection.Builder#maxMessageBytes}):
 * the registry is reachable and the identity allowed, so this is neither "unreachable" nor "refused". Full reads are
 * paged, so it happens only when one value (or one watch event) alone is over the limit. The message names the size,
 * the limit and the fix.
 */
public final class RegistryTooLargeException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final long size;
    private final long limit;

    /**
     * With a message that names the operation, the size, the limit and the fix.
     *
     * @param size  bytes of the refused answer, or -1 when etcd's client did not say
     * @param limit bytes this client accepts
     */
    public RegistryTooLargeException(String message, long size, long limit, Throwable cause) {
        super(message, cause);
        this.size = size;
        this.limit = limit;
    }

    /** Bytes of the answer that was refused, or -1 when not known. */
    public long size() {
        return size;
    }

    /** Bytes this client accepts in one message. */
    public long limit() {
        return limit;
    }
}
