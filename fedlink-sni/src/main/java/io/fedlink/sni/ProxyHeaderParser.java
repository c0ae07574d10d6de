package io.fedlink.sni;

import io.fedlink.api.RefusalReason;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Incremental parser of an incoming PROXY protocol header (haproxy.org proxy-protocol.txt, v1 text and v2 binary),
 * sent by a trusted load balancer before the ClientHello. Like {@link ClientHelloParser} it is fed the whole buffer
 * read so far, keeps no copy and allocates only its result (the client address).
 *
 * <p>Accepted: v1 {@code TCP4}, {@code TCP6} and {@code UNKNOWN} lines of at most {@value #MAX_V1_BYTES} bytes; v2
 * {@code PROXY} over TCP/IPv4 or TCP/IPv6 and {@code LOCAL} (or family {@code UNSPEC}), at most
 * {@value #MAX_V2_BYTES} bytes in all, TLVs skipped. {@code LOCAL} and {@code UNKNOWN} keep the socket's own peer
 * ({@link #source()} is {@code null}). Anything else is refused with a reason and a fixed detail.
 */
public final class ProxyHeaderParser {
    /** The longest v1 line the specification allows, CRLF included. */
    static final int MAX_V1_BYTES = 107;
    /** The longest v2 header accepted (16-byte preamble plus addresses and TLVs); fits the smallest copy buffer. */
    static final int MAX_V2_BYTES = 1024;

    private static final byte[] V2_SIGNATURE = ProxyProtocolHeader.V2_SIGNATURE;
    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final int V2_PREAMBLE = 16;

    /** Where parsing stands: more bytes needed, a complete header, or a refusal (final). */
    public enum Status {
        /** The header is not complete yet. */
        NEED_MORE,
        /** The header is complete: {@link #source()} and {@link #headerBytes()} are known. */
        DONE,
        /** The header is refused: {@link #refusalReason()} and {@link #refusalDetail()} say why. */
        REFUSED
    }

    /** A parser awaiting the first bytes of a connection. */
    public ProxyHeaderParser() {
        // fields start at their defaults
    }

    private Status status = Status.NEED_MORE;
    private RefusalReason reason;
    private String detail;
    private int headerBytes;
    private InetSocketAddress source;
    private int scanned; // v1: bytes already searched for the line end

    /**
     * Parses {@code data[0, available)}, the bytes read so far (absolute indices; position and limit untouched).
     * Once the answer is final it stays so.
     */
    public Status parse(ByteBuffer data, int available) {
        if (status != Status.NEED_MORE) {
            return status;
        }
        if (available == 0) {
            return status;
        }
        if (matches(data, available, V2_SIGNATURE)) {
            return available < V2_PREAMBLE ? status : parseV2(data, available);
        }
        if (matches(data, available, V1_PREFIX)) {
            return available < V1_PREFIX.length ? status : parseV1(data, available);
        }
        return refuse(RefusalReason.PROXY_HEADER_MISSING, "the connection did not start with a PROXY header");
    }

    /** Whether the bytes read so far are the full signature of a v1 or v2 header (for untrusted sources). */
    static boolean startsWithHeader(ByteBuffer data, int available) {
        return available >= V1_PREFIX.length && matches(data, available, V1_PREFIX)
                || available >= V2_SIGNATURE.length && matches(data, available, V2_SIGNATURE);
    }

    /** Whether the first {@code min(available, prefix.length)} bytes agree with {@code prefix}. */
    private static boolean matches(ByteBuffer data, int available, byte[] prefix) {
        int n = Math.min(available, prefix.length);
        for (int i = 0; i < n; i++) {
            if (data.get(i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private Status parseV2(ByteBuffer data, int available) {
        int versionCommand = data.get(12) & 0xFF;
        if (versionCommand >> 4 != 2) {
            return invalid("v2 header with version " + (versionCommand >> 4));
        }
        int command = versionCommand & 0x0F;
        if (command > 1) {
            return invalid("v2 header with unknown command " + command);
        }
        int total = V2_PREAMBLE + (data.getShort(14) & 0xFFFF);
        if (total > MAX_V2_BYTES) {
            return invalid("v2 header of " + total + " bytes, more than " + MAX_V2_BYTES);
        }
        if (available < total) {
            return status;
        }
        headerBytes = total;
        int family = data.get(13) & 0xFF;
        if (command == 0 || family == 0x00) {
            return done(null); // LOCAL (health check) or UNSPEC: the socket's own peer
        }
        int addressBytes = switch (family) {
            case 0x11 -> 4;  // TCP over IPv4
            case 0x21 -> 16; // TCP over IPv6
            default -> -1;
        };
        if (addressBytes < 0) {
            return invalid(String.format("v2 header for address family/protocol 0x%02x, not TCP over IPv4 or IPv6",
                    family));
        }
        if (total - V2_PREAMBLE < 2 * addressBytes + 4) {
            return invalid("v2 address block shorter than its family needs");
        }
        byte[] address = new byte[addressBytes];
        for (int i = 0; i < addressBytes; i++) {
            address[i] = data.get(V2_PREAMBLE + i);
        }
        int port = data.getShort(V2_PREAMBLE + 2 * addressBytes) & 0xFFFF;
        try {
            return done(new InetSocketAddress(InetAddress.getByAddress(address), port));
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes are an address", e);
        }
    }

    private Status parseV1(ByteBuffer data, int available) {
        int end = Math.min(available, MAX_V1_BYTES);
        int lf = -1;
        for (int i = scanned; i < end; i++) {
            if (data.get(i) == '\n') {
                lf = i;
                break;
            }
        }
        scanned = end;
        if (lf < 0) {
            return available >= MAX_V1_BYTES
                    ? invalid("v1 line longer than " + MAX_V1_BYTES + " bytes") : status;
        }
        if (data.get(lf - 1) != '\r') {
            return invalid("v1 line not ended by CRLF");
        }
        headerBytes = lf + 1;
        int lineEnd = lf - 1;
        int p = V1_PREFIX.length;
        int protoEnd = tokenEnd(data, p, lineEnd);
        if (word(data, p, protoEnd, "UNKNOWN")) {
            return done(null); // the rest of the line is to be ignored
        }
        boolean v4 = word(data, p, protoEnd, "TCP4");
        if (!v4 && !word(data, p, protoEnd, "TCP6")) {
            return invalid("v1 protocol is not TCP4, TCP6 or UNKNOWN");
        }
        int[] fields = new int[8]; // start, end of: source, destination, source port, destination port
        p = protoEnd;
        for (int f = 0; f < 4; f++) {
            if (p >= lineEnd || data.get(p) != ' ') {
                return invalid("v1 line without its four address fields");
            }
            fields[2 * f] = p + 1;
            p = tokenEnd(data, p + 1, lineEnd);
            fields[2 * f + 1] = p;
        }
        if (p != lineEnd) {
            return invalid("v1 line with more than four address fields");
        }
        InetAddress src = v1Address(data, fields[0], fields[1], v4);
        int sport = port(data, fields[4], fields[5]);
        if (src == null || v1Address(data, fields[2], fields[3], v4) == null || sport < 0
                || port(data, fields[6], fields[7]) < 0) {
            return invalid("v1 address or port is not valid for " + (v4 ? "TCP4" : "TCP6"));
        }
        return done(new InetSocketAddress(src, sport));
    }

    private static int tokenEnd(ByteBuffer data, int from, int lineEnd) {
        int i = from;
        while (i < lineEnd && data.get(i) != ' ') {
            i++;
        }
        return i;
    }

    private static boolean word(ByteBuffer data, int from, int to, String expected) {
        if (to - from != expected.length()) {
            return false;
        }
        for (int i = 0; i < expected.length(); i++) {
            if (data.get(from + i) != expected.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** A decimal port 0..65535 of 1 to 5 digits, or -1. */
    private static int port(ByteBuffer data, int from, int to) {
        if (to - from < 1 || to - from > 5) {
            return -1;
        }
        int v = 0;
        for (int i = from; i < to; i++) {
            int d = data.get(i) - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v <= 0xFFFF ? v : -1;
    }

    /** A dotted-quad (TCP4) or colon-hex (TCP6) literal, or {@code null}; never a name lookup. */
    private static InetAddress v1Address(ByteBuffer data, int from, int to, boolean v4) {
        return v4 ? ipv4(data, from, to) : ipv6(data, from, to);
    }

    private static InetAddress ipv4(ByteBuffer data, int from, int to) {
        byte[] a = new byte[4];
        int part = 0;
        int value = 0;
        int digits = 0;
        for (int i = from; i <= to; i++) {
            int c = i == to ? '.' : data.get(i);
            if (c == '.') {
                if (digits == 0 || value > 255 || part > 3) {
                    return null;
                }
                a[part++] = (byte) value;
                value = 0;
                digits = 0;
            } else if (c >= '0' && c <= '9' && digits < 3) {
                value = value * 10 + c - '0';
                digits++;
            } else {
                return null;
            }
        }
        return part == 4 ? byAddress(a) : null;
    }

    private static InetAddress ipv6(ByteBuffer data, int from, int to) {
        if (to - from < 2 || to - from > 45) {
            return null;
        }
        boolean colon = false;
        for (int i = from; i < to; i++) {
            int c = data.get(i);
            boolean hex = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
            if (!hex && c != ':' && c != '.') {
                return null;
            }
            colon |= c == ':';
        }
        if (!colon) {
            return null;
        }
        byte[] text = new byte[to - from];
        data.get(from, text);
        try {
            // Only hex digits, colons and dots with a colon: parsed as an IPv6 literal, never looked up.
            return InetAddress.getByName(new String(text, StandardCharsets.US_ASCII));
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static InetAddress byAddress(byte[] a) {
        try {
            return InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 bytes are an address", e);
        }
    }

    private Status done(InetSocketAddress from) {
        source = from;
        status = Status.DONE;
        return status;
    }

    private Status invalid(String why) {
        return refuse(RefusalReason.PROXY_HEADER_INVALID, why);
    }

    private Status refuse(RefusalReason r, String why) {
        reason = r;
        detail = why;
        status = Status.REFUSED;
        return status;
    }

    /** The client address the header carries, or {@code null} for LOCAL/UNKNOWN/UNSPEC (keep the socket peer). */
    public InetSocketAddress source() {
        return source;
    }

    /** Length of the header in bytes, once {@link Status#DONE}; the ClientHello starts right after it. */
    public int headerBytes() {
        return headerBytes;
    }

    /** Why it was refused, once {@link Status#REFUSED}. */
    public RefusalReason refusalReason() {
        return reason;
    }

    /** A fixed description of the refusal (never echoes client bytes). */
    public String refusalDetail() {
        return detail;
    }
}
