/**
 * What both command jars share: the command-line setup ({@link io.fedlink.cli.support.Commands}), durations, error
 * messages, secrets read from files, and the etcd options.
 */
package io.fedlink.cli.support;
