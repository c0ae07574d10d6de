package io.fedlink.api;

import java.io.IOException;
import java.net.InetAddress;

/**
 * Turns a DNS-named target into an address. A transport calls it off its data path, on a small bounded pool, with a
 * deadline; it may block. The default is the JDK resolver ({@link InetAddress#getByName}); tests and embedders with
 * their own naming inject another (a lookup that never answers is the transport's problem to bound, not the
 * resolver's).
 */
@FunctionalInterface
public interface NameResolver {
    /** The JDK resolver (hosts file, then the system's name servers). */
    NameResolver JDK = InetAddress::getByName;

    /**
     * Resolves {@code host} (a DNS name, never an IP literal).
     *
     * @throws IOException when the name does not resolve
     */
    InetAddress resolve(String host) throws IOException;
}
