/**
 * The {@code fedlink} command ({@link io.fedlink.cli.Main}): every subcommand (pki, bundle, federation, pulsar, demo,
 * and the proxy host's proxy and agent from {@code io.fedlink.cli.proxy}). Commands parse options into the
 * library's objects and print what they did; the wiring lives in the library.
 */
package io.fedlink.cli;
