/**
 * Prometheus metrics and health for a running proxy: {@link io.fedlink.metrics.ProxyMetrics} (tunnels, refusals by
 * reason, bytes, targets, agents, latency histograms), {@link io.fedlink.metrics.MetricsServer} ({@code /metrics},
 * {@code /livez}, {@code /readyz} on the bounded HTTP layer) and {@link io.fedlink.metrics.RegistryHealth}.
 */
package io.fedlink.metrics;
