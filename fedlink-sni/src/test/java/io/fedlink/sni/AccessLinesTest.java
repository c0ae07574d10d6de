package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedlink.api.CloseReason;
import io.fedlink.api.Endpoint;
import io.fedlink.api.RefusalReason;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The access and refusal lines: JSON that a real parser reads back exactly, whatever a client sent; text unchanged. */
class AccessLinesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Everything that could break a line or a field: quotes, backslashes, controls, DEL, non-ASCII, surrogates. */
    static final String HOSTILE = "a\"b\\c\nd\re\tf\u0000g\u001fh\u007fi\u00e9j\u2028k\u2029l\ud83d\ude00m\ud800n"
            + "\",\"reason\":\"completed\"}{";

    private static InetSocketAddress at(String ip, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), port);
    }

    /** Each line: one line of printable ASCII. */
    private static void assertOneAsciiLine(String line) {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            assertTrue(c >= 0x20 && c < 0x7f, "character " + (int) c + " at " + i + " in " + line);
        }
    }

    @Test
    void aTunnelLineParsesBackExactlyEvenWithAHostileServerName() throws Exception {
        long when = Instant.parse("2026-12-05T03:28:03Z").toEpochMilli();
        String line = AccessLines.tunnelJson(when, 17, at("10.0.0.7", 51234), HOSTILE, "*.fate.org",
                Endpoint.of("10.0.0.3", 6651), 3051, 5120, 20480, CloseReason.ROTATED);
        assertOneAsciiLine(line);
        JsonNode n = JSON.readTree(line);
        List<String> fields = new ArrayList<>();
        n.fieldNames().forEachRemaining(fields::add);
        assertEquals(List.of("time", "event", "id", "client", "server_name", "route", "target", "duration_ms",
                "bytes_from_client", "bytes_to_client", "reason"), fields);
        assertEquals("2026-12-05T03:28:03.000Z", n.get("time").asText(), "fixed width, UTC");
        assertEquals(Instant.ofEpochMilli(when), Instant.parse(n.get("time").asText()));
        assertEquals("tunnel", n.get("event").asText());
        assertEquals(17, n.get("id").asLong());
        assertEquals("10.0.0.7:51234", n.get("client").asText());
        assertEquals(HOSTILE, n.get("server_name").asText(), "the name exactly as given, no field forged");
        assertEquals("*.fate.org", n.get("route").asText());
        assertEquals("10.0.0.3:6651", n.get("target").asText());
        assertEquals(3051, n.get("duration_ms").asLong());
        assertEquals(5120, n.get("bytes_from_client").asLong());
        assertEquals(20480, n.get("bytes_to_client").asLong());
        assertEquals("rotated", n.get("reason").asText());
    }

    @Test
    void absentValuesAreNullAndIpv6ClientsAreBracketed() throws Exception {
        JsonNode n = JSON.readTree(AccessLines.tunnelJson(0, 1, at("::1", 443), null, null, null, 0, 0, 0, null));
        assertEquals("[0:0:0:0:0:0:0:1]:443", n.get("client").asText());
        assertTrue(n.get("server_name").isNull() && n.get("route").isNull() && n.get("target").isNull()
                && n.get("reason").isNull());
        assertEquals("1970-01-01T00:00:00.000Z", n.get("time").asText());
    }

    @Test
    void refusalAndSummaryLinesParse() throws Exception {
        String line = AccessLines.refusalJson(1_000, at("127.0.0.1", 1), null, RefusalReason.INVALID_SERVER_NAME,
                HOSTILE);
        assertOneAsciiLine(line);
        JsonNode n = JSON.readTree(line);
        assertEquals("refused", n.get("event").asText());
        assertEquals("127.0.0.1:1", n.get("client").asText());
        assertTrue(n.get("server_name").isNull());
        assertEquals("invalid_server_name", n.get("reason").asText());
        assertEquals(HOSTILE, n.get("detail").asText());
        JsonNode s = JSON.readTree(AccessLines.suppressedJson(2_000, 7, 20));
        assertEquals("refusals_not_logged", s.get("event").asText());
        assertEquals(7, s.get("count").asLong());
        assertEquals(20, s.get("limit_per_second").asInt());
    }

    @Test
    void theTextLinesAreTheOnesTheLoggersAlwaysWrote() throws Exception {
        assertEquals("client=/10.0.0.7:51234 sni=9999.fate.org target=10.0.0.3:6651 up=5120 down=20480"
                + " duration_ms=3051 reason=COMPLETED", AccessLines.tunnelText(at("10.0.0.7", 51234), "9999.fate.org",
                Endpoint.of("10.0.0.3", 6651), 5120, 20480, 3051, CloseReason.COMPLETED));
        assertEquals("refused client=/10.0.0.7:1 sni=- reason=NOT_TLS (not a handshake record)",
                AccessLines.refusalText(at("10.0.0.7", 1), "-", RefusalReason.NOT_TLS, "not a handshake record"));
    }
}
