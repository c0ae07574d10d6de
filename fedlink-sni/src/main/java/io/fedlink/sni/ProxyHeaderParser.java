package io.fedlink.sni;

import io.fedlink.api.HostNames;
import io.fedlink.api.RefusalReason;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * Incremental parser of an incoming PROXY protocol header (haproxy.org proxy-protocol.txt, v1 text and v2 binary),
 * sent by a trusted load balancer before the ClientHello, held strictly to that specification. Like
 * {@link ClientHelloParser} it is fed the whole buffer read so far, keeps no copy and allocates only its result.
 *
 * <p>v1: {@code TCP4}/{@code TCP6} lines of at most {@value #MAX_V1_BYTES} bytes ending in CRLF, with exactly four
 * fields: address literals of the announced family (IPv4 without leading zeros, IPv6 of 128 bits, no brackets or
 * zone), ports 0..65535 without leading zeros; never a name lookup. {@code UNKNOWN}: the rest of the line is ignored.
 * v2: version 2, command {@code LOCAL} or {@code PROXY}, at most {@value #MAX_V2_BYTES} bytes; the address block
 * must be as long as its family needs (IPv4 12, IPv6 36, UNIX 216 bytes), the TLVs after it must end exactly at the
 * end of the header, and a CRC32c TLV must be 4 bytes, single, and match the header. {@code PROXY} over TCP/IPv4 or
 * TCP/IPv6 gives the client address; {@code LOCAL} (whose family and addresses the specification says to ignore:
 * nothing after its length is read), {@code UNKNOWN}, family {@code UNSPEC}, UNIX sockets and datagrams keep the
 * socket's own peer ({@link #source()} is {@code null}). Anything else is refused
 * with a reason ({@link RefusalReason#PROXY_HEADER_CHECKSUM} for a CRC mismatch) and a fixed detail.
 */
public final class ProxyHeaderParser {
    /** The longest v1 line the specification allows, CRLF included. */
    static final int MAX_V1_BYTES = 107;
    /** The longest v2 header accepted (16-byte preamble plus addresses and TLVs); fits the smallest copy buffer. */
    static final int MAX_V2_BYTES = 1024;

    private static final byte[] V2_SIGNATURE = ProxyProtocolHeader.V2_SIGNATURE;
    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final int V2_PREAMBLE = 16;
    private static final int TLV_HEADER = 3;
    private static final int PP2_TYPE_CRC32C = 0x03;

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
        int length = data.getShort(14) & 0xFFFF;
        int total = V2_PREAMBLE + length;
        if (total > MAX_V2_BYTES) {
            return invalid("v2 header of " + total + " bytes, more than " + MAX_V2_BYTES);
        }
        if (available < total) {
            return status;
        }
        headerBytes = total;
        if (command == 0) {
            return done(null); // LOCAL (health check): the family and everything after it are ignored
        }
        int family = data.get(13) & 0xFF;
        if (family >> 4 > 3 || (family & 0x0F) > 2) {
            return invalid(String.format("v2 header for unassigned address family/protocol 0x%02x", family));
        }
        int addressBytes = switch (family) {
            case 0x00 -> 0;          // UNSPEC: no address
            case 0x11, 0x12 -> 12;   // TCP, UDP over IPv4
            case 0x21, 0x22 -> 36;   // TCP, UDP over IPv6
            case 0x31, 0x32 -> 216;  // UNIX stream, datagram
            default -> -1;           // a family with protocol UNSPEC: an address of unknown length, ignored
        };
        if (addressBytes > length) {
            return invalid(String.format("v2 address block of %d bytes, family 0x%02x needs %d", length, family,
                    addressBytes));
        }
        if (addressBytes >= 0 && checkTlvs(data, V2_PREAMBLE + addressBytes, total) == Status.REFUSED) {
            return status;
        }
        if (family != 0x11 && family != 0x21) {
            return done(null); // UNSPEC, UDP, UNIX: the socket's own peer
        }
        int ipBytes = family == 0x11 ? 4 : 16;
        byte[] address = new byte[ipBytes];
        for (int i = 0; i < ipBytes; i++) {
            address[i] = data.get(V2_PREAMBLE + i);
        }
        return done(new InetSocketAddress(byAddress(address), data.getShort(V2_PREAMBLE + 2 * ipBytes) & 0xFFFF));
    }

    /**
     * Walks the TLVs in {@code [from, total)}: each must fit, the last must end at {@code total}; a CRC32c TLV must be
     * single, 4 bytes long and match the whole header with its value zeroed. Returns {@link Status#REFUSED} or the
     * status unchanged.
     */
    private Status checkTlvs(ByteBuffer data, int from, int total) {
        int crcAt = -1;
        for (int at = from; at < total; ) {
            if (total - at < TLV_HEADER) {
                return invalid("v2 TLV header cut by the end of the header");
            }
            int type = data.get(at) & 0xFF;
            int valueBytes = data.getShort(at + 1) & 0xFFFF;
            if (valueBytes > total - at - TLV_HEADER) {
                return invalid(String.format("v2 TLV of type 0x%02x longer than the header", type));
            }
            if (type == PP2_TYPE_CRC32C) {
                if (valueBytes != 4 || crcAt >= 0) {
                    return invalid("v2 CRC32c TLV not single or not 4 bytes long");
                }
                crcAt = at + TLV_HEADER;
            }
            at += TLV_HEADER + valueBytes;
        }
        if (crcAt >= 0 && crc32c(data, total, crcAt) != data.getInt(crcAt)) {
            return refuse(RefusalReason.PROXY_HEADER_CHECKSUM, "v2 CRC32c does not match the header");
        }
        return status;
    }

    /** CRC32c of {@code data[0, total)} with the 4 bytes at {@code crcAt} counted as zeros. */
    private static int crc32c(ByteBuffer data, int total, int crcAt) {
        CRC32C crc = new CRC32C();
        ByteBuffer view = data.duplicate();
        crc.update(view.limit(crcAt).position(0));
        for (int i = 0; i < 4; i++) {
            crc.update(0);
        }
        crc.update(view.limit(total).position(crcAt + 4));
        return (int) crc.getValue();
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
        AsciiView text = new AsciiView();
        byte[] src = v1Address(text.of(data, fields[0], fields[1]), v4);
        int sport = port(data, fields[4], fields[5]);
        if (src == null || v1Address(text.of(data, fields[2], fields[3]), v4) == null || sport < 0
                || port(data, fields[6], fields[7]) < 0) {
            return invalid("v1 address or port is not valid for " + (v4 ? "TCP4" : "TCP6"));
        }
        return done(new InetSocketAddress(byAddress(src), sport));
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

    /** A decimal port 0..65535 of 1 to 5 digits without a leading zero, or -1. */
    private static int port(ByteBuffer data, int from, int to) {
        if (to - from < 1 || to - from > 5 || to - from > 1 && data.get(from) == '0') {
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

    /**
     * The bytes of a dotted-quad (TCP4) or colon-hex (TCP6) literal as {@link HostNames} reads them (no leading
     * zeros, 128 bits, no brackets, no zone), or {@code null}; never a name lookup.
     */
    private static byte[] v1Address(AsciiView text, boolean v4) {
        if (text.length() > (v4 ? 15 : 45)) {
            return null;
        }
        return v4 ? HostNames.parseIpv4(text) : HostNames.parseIpv6(text.toString());
    }

    /** A window of ASCII bytes of the buffer read as characters, without copying (re-pointed for each field). */
    private static final class AsciiView implements CharSequence {
        private ByteBuffer data;
        private int from;
        private int length;

        AsciiView of(ByteBuffer buffer, int start, int end) {
            data = buffer;
            from = start;
            length = end - start;
            return this;
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public char charAt(int index) {
            return (char) (data.get(from + index) & 0xFF);
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return toString().substring(start, end);
        }

        @Override
        public String toString() {
            byte[] b = new byte[length];
            data.get(from, b);
            return new String(b, StandardCharsets.ISO_8859_1);
        }
    }

    /** 4 or 16 bytes as an address (an IPv4-mapped IPv6 address becomes IPv4); never a lookup. */
    private static InetAddress byAddress(byte[] a) {
        try {
            return InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes are an address", e);
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
