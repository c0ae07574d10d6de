/**
 * Pulsar for a federation: broker TLS settings ({@link io.fedlink.pulsar.BrokerTlsConfig}), clients that reach
 * other parties through the SNI proxy ({@link io.fedlink.pulsar.PartyClients}), and cluster metadata kept in step
 * with the federation model ({@link io.fedlink.pulsar.FederationAdmin}, {@link io.fedlink.pulsar.PulsarSync}).
 */
package io.fedlink.pulsar;
