package io.fedlink.metrics;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Clients that each send the start of an HTTP request and then nothing, held open until closed: the load that
 * starved the health port. They come from {@code sources} loopback addresses (127.0.0.2, 127.0.0.3, ...), so that a
 * per-source connection cap does not simply refuse them: each holds its connection like a real slow client would.
 */
public final class HalfRequests implements AutoCloseable {
    private final List<Socket> sockets = new ArrayList<>();

    /** Opens {@code count} half requests to {@code server}, spread over {@code sources} addresses 127.0.0.2 on. */
    public HalfRequests(InetSocketAddress server, int count, int sources) throws IOException {
        try {
            for (int i = 0; i < count; i++) {
                Socket s = new Socket();
                sockets.add(s);
                s.bind(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (2 + i % sources)}),
                        0));
                s.connect(server, 10_000);
                s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
                        .getBytes(StandardCharsets.US_ASCII));
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The clients' sockets, in the order opened. */
    public List<Socket> sockets() {
        return sockets;
    }

    @Override
    public void close() {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
