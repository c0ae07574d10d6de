/**
 * The federation model, with no Pulsar, etcd or YAML library in its API: a {@link io.fedlink.federation.Federation}
 * of {@link io.fedlink.federation.Party parties} (id, names, broker host and ports, allowed sources, egress, how the
 * proxy reaches it), its naming rule (party id to server name) and validation, and pure functions from it to the
 * proxy's route table, to FATE's {@code pulsar_route_table.yaml} ({@link io.fedlink.federation.PulsarRouteTable}) and
 * to Pulsar cluster metadata ({@link io.fedlink.federation.ClusterMetadata}). The registry stores it, the bundle
 * reads its file into it ({@link io.fedlink.federation.FederationFile}).
 */
package io.fedlink.federation;
