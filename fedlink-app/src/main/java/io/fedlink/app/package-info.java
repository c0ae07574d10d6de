/**
 * The proxy application for embedding: {@link io.fedlink.app.ProxyApp} starts what {@code fedlink proxy} starts (the
 * proxy, its route source, metrics and health, the admin endpoint on a Unix socket or token-guarded TCP, the access
 * log, TLS files that reload, graceful drain) through one builder; the command line only parses options into it.
 */
package io.fedlink.app;
