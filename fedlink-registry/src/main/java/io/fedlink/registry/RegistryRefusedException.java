package io.fedlink.registry;

/**
 * etcd answered and refused the call for this identity (permission denied, or the client certificate's common name
 * is no etcd user): not an outage, retrying does not help until the operator changes etcd's users and roles. The
 * message names the operation and what to check.
 */
public final class RegistryRefusedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** With a message naming the operation and what to check. */
    public RegistryRefusedException(String message, Throwable cause) {
        super(message, cause);
    }
}
