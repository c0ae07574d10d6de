/**
 * The proxy host's commands, {@code proxy} (with {@code close-tunnels}) and {@code agent}, and the proxy jar's main
 * ({@link io.fedlink.cli.proxy.ProxyMain}): a module whose dependencies hold no Pulsar client and no bundle code.
 */
package io.fedlink.cli.proxy;
