/**
 * The federation in etcd: {@link io.fedlink.registry.FederationRegistry} stores and watches the federation model (one
 * JSON record per party; every write validated, then stored in one transaction that compares the revisions it was
 * validated against), {@link io.fedlink.registry.EtcdRouteSource} turns it into the proxy's routes for many proxies
 * at once, and {@link io.fedlink.registry.EtcdConnection} is the mutual-TLS client. Reads are bounded; an
 * unreachable or refusing etcd is an error naming what to do, never a silent empty federation.
 */
package io.fedlink.registry;
