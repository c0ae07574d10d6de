package io.fedlink.registry;

import java.io.IOException;

/**
 * etcd did not answer in time or could not be reached. For a write, the outcome is unknown: it may still be applied
 * (registry writes compare mod revisions, so a late one never overwrites a newer value); read the registry to see.
 */
public final class RegistryUnavailableException extends IOException {
    private static final long serialVersionUID = 1L;

    /** With a message that names the endpoints and the operation. */
    public RegistryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
