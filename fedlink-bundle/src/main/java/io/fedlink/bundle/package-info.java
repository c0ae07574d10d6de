/**
 * Bundles: every file a party, proxy or cluster needs, written at once from one CA ({@link io.fedlink.bundle.BundleCa})
 * and nothing half-written ({@link io.fedlink.bundle.WrittenBundle}): {@link io.fedlink.bundle.FederationBundle}
 * (FATE with Pulsar: certificates, {@code sni.yaml}, route tables, broker and proxy units, agents),
 * {@link io.fedlink.bundle.EtcdBundle}, {@link io.fedlink.bundle.FlinkBundle} and
 * {@link io.fedlink.bundle.ConsulBundle}. The certificate roles these tools need are defined here, where they are
 * used, not in the PKI core.
 */
package io.fedlink.bundle;
