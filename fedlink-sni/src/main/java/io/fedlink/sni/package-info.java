/**
 * The SNI tunnel proxy over NIO (transport {@code nio}, started with {@link io.fedlink.sni.SniProxy#builder()}):
 * one listening socket per event loop ({@code SO_REUSEPORT}, so the kernel spreads new connections over the loops),
 * each connection owned by the loop that accepted it. A connection reads an optional PROXY header and the TLS
 * ClientHello ({@link io.fedlink.sni.ClientHelloParser}, {@link io.fedlink.sni.ProxyHeaderParser}), is routed by
 * the server name, connects to a target (or takes a data connection of a party's {@link io.fedlink.sni.Agent}),
 * replays the hello and copies bytes blindly both ways; TLS is never terminated. The phases that decide (front,
 * routing, connect attempts, the copy loop) are package-private objects with no I/O, unit-tested without sockets;
 * a connection reaches its transport only through a loop and its links, so the same core also runs in memory:
 * {@link io.fedlink.sni.MemoryNetwork} (transport {@code memory}) is a TCP network inside the JVM, with plain
 * {@code Socket}s and {@code ServerSocket}s for clients and targets, for tests. Route files: {@link io.fedlink.sni.RouteFileSource} reads FATE's {@code sni.yaml}.
 */
package io.fedlink.sni;
