package io.fedlink.sni;

import io.fedlink.api.CloseReason;
import io.fedlink.api.Endpoint;
import io.fedlink.api.RefusalReason;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * The access log and refusal lines in both {@link io.fedlink.api.AccessLogFormat}s. Called only on the log thread
 * ({@link TunnelEvents}), never on an event loop. JSON strings are escaped so the line stays one line of ASCII
 * whatever a client sent: {@code "} and {@code \} with a backslash, control characters, DEL, and everything beyond
 * ASCII (including lone surrogates and U+2028/U+2029) as {@code \}{@code uXXXX}.
 */
final class AccessLines {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'",
            Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private AccessLines() {}

    /** One ended tunnel as a JSON object. */
    static String tunnelJson(long epochMillis, long id, InetSocketAddress client, String serverName, String route,
                             Endpoint target, long durationMillis, long bytesFromClient, long bytesToClient,
                             CloseReason reason) {
        StringBuilder b = new StringBuilder(320);
        b.append("{\"time\":");
        string(b, TIME.format(Instant.ofEpochMilli(epochMillis)));
        b.append(",\"event\":\"tunnel\",\"id\":").append(id).append(",\"client\":");
        string(b, address(client));
        b.append(",\"server_name\":");
        string(b, serverName);
        b.append(",\"route\":");
        string(b, route);
        b.append(",\"target\":");
        string(b, target == null ? null : target.toString());
        b.append(",\"duration_ms\":").append(durationMillis).append(",\"bytes_from_client\":").append(bytesFromClient)
                .append(",\"bytes_to_client\":").append(bytesToClient).append(",\"reason\":");
        string(b, lower(reason));
        return b.append('}').toString();
    }

    /** One refused connection as a JSON object. */
    static String refusalJson(long epochMillis, InetSocketAddress client, String serverName, RefusalReason reason,
                              String detail) {
        StringBuilder b = new StringBuilder(200);
        b.append("{\"time\":");
        string(b, TIME.format(Instant.ofEpochMilli(epochMillis)));
        b.append(",\"event\":\"refused\",\"client\":");
        string(b, address(client));
        b.append(",\"server_name\":");
        string(b, serverName);
        b.append(",\"reason\":");
        string(b, lower(reason));
        b.append(",\"detail\":");
        string(b, detail);
        return b.append('}').toString();
    }

    /** The summary of refusals over the rate limit, as a JSON object. */
    static String suppressedJson(long epochMillis, long count, int perSecond) {
        StringBuilder b = new StringBuilder(120);
        b.append("{\"time\":");
        string(b, TIME.format(Instant.ofEpochMilli(epochMillis)));
        return b.append(",\"event\":\"refusals_not_logged\",\"count\":").append(count)
                .append(",\"limit_per_second\":").append(perSecond).append('}').toString();
    }

    /** The text line of one ended tunnel, as the access logger has always written it. */
    static String tunnelText(Object client, Object serverName, Object target, long up, long down, long millis,
                             Object reason) {
        return "client=" + client + " sni=" + serverName + " target=" + target + " up=" + up + " down=" + down
                + " duration_ms=" + millis + " reason=" + reason;
    }

    /** The text line of one refusal. */
    static String refusalText(Object client, Object serverName, Object reason, String detail) {
        return "refused client=" + client + " sni=" + serverName + " reason=" + reason + " (" + detail + ")";
    }

    /** The text summary of refusals over the rate limit. */
    static String suppressedText(long count, int perSecond) {
        return count + " more refusals in the last second not logged (rate limit " + perSecond + "/s)";
    }

    /** {@code ip:port}, {@code [v6]:port}, or {@code null}. */
    static String address(InetSocketAddress a) {
        if (a == null) {
            return null;
        }
        InetAddress ip = a.getAddress();
        String host = ip == null ? a.getHostString() : ip.getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    private static String lower(Enum<?> e) {
        return e == null ? null : e.name().toLowerCase(Locale.ROOT);
    }

    /** Appends {@code s} as a JSON string literal (or {@code null}), ASCII only. */
    static void string(StringBuilder b, String s) {
        if (s == null) {
            b.append("null");
            return;
        }
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c >= 0x7f) {
                        b.append("\\u").append(HEX[c >> 12]).append(HEX[(c >> 8) & 0xf]).append(HEX[(c >> 4) & 0xf])
                                .append(HEX[c & 0xf]);
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
