package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedlink.api.AccessLogFormat;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServer;
import java.io.IOException;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The access log through a real proxy: JSON lines a parser reads back, hostile hellos included; text unchanged. */
class AccessLogIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Sends {@code first} and {@code extra} bytes, half-closes, returns what came back (empty when refused). */
    private static byte[] exchange(TunnelServer proxy, byte[] first, int extra, int[] localPort) throws IOException {
        try (Socket s = Loopback.connect(proxy.localAddress())) {
            localPort[0] = s.getLocalPort();
            s.getOutputStream().write(first);
            s.getOutputStream().write(new byte[extra]);
            s.shutdownOutput();
            return Loopback.readAll(s.getInputStream());
        } catch (IOException e) { // a refusal may end with a reset
            return new byte[0];
        }
    }

    private static JsonNode awaitLine(List<String> lines, String event, String field, String value)
            throws Exception {
        JsonNode[] found = new JsonNode[1];
        Loopback.await("a line with event " + event + " and " + field + "=" + value + " in " + lines, 20, () -> {
            for (String l : lines) {
                try {
                    JsonNode n = JSON.readTree(l);
                    if (n.get("event").asText().equals(event) && value.equals(n.get(field).asText())) {
                        found[0] = n;
                        return true;
                    }
                } catch (IOException e) {
                    throw new AssertionError("not JSON: " + l, e);
                }
            }
            return false;
        });
        return found[0];
    }

    @Test
    void jsonLinesForTunnelsAndRefusalsHostileNamesIncluded() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        try (Loopback.Target echo = Loopback.Target.echo();
             TunnelServer proxy = SniProxy.builder().bindLoopback(0).eventLoops(1)
                     .routes(RouteTable.builder().add("*.fate.org", echo.endpoint()).build())
                     .accessLogFormat(AccessLogFormat.JSON).accessLogSink(lines::add).start()) {
            byte[] hello = Hellos.jsse("a.fate.org");
            int[] port = new int[1];
            assertEquals(hello.length + 100, exchange(proxy, hello, 100, port).length);
            JsonNode t = awaitLine(lines, "tunnel", "server_name", "a.fate.org");
            assertEquals("127.0.0.1:" + port[0], t.get("client").asText());
            assertEquals("*.fate.org", t.get("route").asText());
            assertEquals(echo.endpoint().toString(), t.get("target").asText());
            assertEquals(hello.length + 100, t.get("bytes_from_client").asLong());
            assertEquals(hello.length + 100, t.get("bytes_to_client").asLong());
            assertEquals("completed", t.get("reason").asText());
            assertTrue(t.get("id").asLong() > 0 && t.get("duration_ms").asLong() >= 0, t.toString());
            assertTrue(java.time.Instant.parse(t.get("time").asText())
                    .isAfter(java.time.Instant.now().minusSeconds(60)), t.toString());

            exchange(proxy, Hellos.jsse("x.example.org"), 0, port);
            JsonNode unknown = awaitLine(lines, "refused", "server_name", "x.example.org");
            assertEquals("unknown_server_name", unknown.get("reason").asText());
            assertEquals("127.0.0.1:" + port[0], unknown.get("client").asText());

            // A name no DNS rule allows: quotes, a backslash, a control character and a non-ASCII byte.
            byte[] hostile = Hellos.records(Hellos.clientHello(Hellos.sniExtension("a\"b\\c\u0001\u00e9.fate.org")),
                    16384);
            exchange(proxy, hostile, 0, port);
            JsonNode bad = awaitLine(lines, "refused", "reason", "invalid_server_name");
            assertTrue(bad.get("server_name").isNull(), bad.toString());
            assertTrue(!bad.get("detail").asText().isEmpty(), bad.toString());

            exchange(proxy, Hellos.ascii("GET / HTTP/1.1\r\n\r\n"), 0, port);
            awaitLine(lines, "refused", "reason", "not_tls");
            for (String l : lines) {
                assertTrue(l.chars().allMatch(c -> c >= 0x20 && c < 0x7f), "one line of ASCII: " + l);
                assertTrue(JSON.readTree(l).isObject(), l);
            }
        }
    }

    @Test
    void textLinesAreUnchanged() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        try (Loopback.Target echo = Loopback.Target.echo();
             TunnelServer proxy = SniProxy.builder().bindLoopback(0).eventLoops(1)
                     .routes(RouteTable.builder().add("*.fate.org", echo.endpoint()).build())
                     .accessLogSink(lines::add).start()) {
            byte[] hello = Hellos.jsse("a.fate.org");
            int[] port = new int[1];
            exchange(proxy, hello, 0, port);
            String expected = "client=/127.0.0.1:" + port[0] + " sni=a.fate.org target=" + echo.endpoint() + " up="
                    + hello.length + " down=" + hello.length + " duration_ms=";
            Loopback.await("the text line", 20, () -> lines.stream().anyMatch(l -> l.startsWith(expected)
                    && l.endsWith(" reason=COMPLETED")));
            exchange(proxy, Hellos.jsse("x.example.org"), 0, port);
            Loopback.await("the refusal line", 20, () -> lines.contains("refused client=/127.0.0.1:" + port[0]
                    + " sni=x.example.org reason=UNKNOWN_SERVER_NAME (no route)"));
        }
    }
}
