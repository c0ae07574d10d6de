package io.fedlink.sni;

import io.fedlink.api.HostNames;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.TunnelServerConfig;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Incremental, allocation-free parser of the TLS ClientHello that opens a connection: it reads the server name
 * (SNI) a proxy routes by, and refuses everything else precisely.
 *
 * <p>Feed it the bytes received so far, always from the first byte of the connection, as often as new bytes arrive:
 * {@link #parse(ByteBuffer, int)} answers {@link Status#NEED_MORE}, {@link Status#SERVER_NAME},
 * {@link Status#NO_SERVER_NAME} or {@link Status#REFUSED}. Work already done is not repeated: record headers are
 * scanned once, and the hello body is parsed once, when the whole message is in. One parser serves one connection
 * at a time; {@link #reset()} makes it reusable. Not thread-safe.
 *
 * <p>What it accepts: TLS handshake records (legacy version 3.x) carrying one ClientHello, fragmented over any number
 * of records (RFC 8446 5.1) and any TCP segmentation; unknown and GREASE extensions are skipped; with Encrypted
 * Client Hello the outer (public) name is what it reads. What it refuses, each with a {@link RefusalReason} and a
 * fixed detail text: SSLv2-compatible hellos and anything that is not a handshake record ({@code NOT_TLS}); record
 * or message lengths that disagree with their container, zero-length or over-long records, other records mixed into
 * the hello, a message other than ClientHello, trailing bytes after it ({@code MALFORMED_HELLO}); a hello longer than
 * the cap ({@code HELLO_TOO_LARGE}) as soon as its declared length says so; two server_name extensions, two names,
 * non-host_name entries, empty names, and names that are neither LDH DNS names (labels 1..63, at most 253
 * characters, a trailing dot allowed) nor IP literals ({@code INVALID_SERVER_NAME}). No declared length ever sizes a
 * buffer.
 */
public final class ClientHelloParser {

    /** What {@link #parse} found. */
    public enum Status {
        /** The hello is not complete yet; call again with more bytes. */
        NEED_MORE,
        /** The hello is complete and names a server: see {@link #serverName()}. */
        SERVER_NAME,
        /** The hello is complete and valid but carries no server name. */
        NO_SERVER_NAME,
        /** The bytes are refused: see {@link #refusalReason()} and {@link #refusalDetail()}. */
        REFUSED
    }

    /** Default cap on the bytes buffered for one hello (records and headers included). */
    public static final int DEFAULT_MAX_HELLO_BYTES = TunnelServerConfig.DEFAULT_HELLO_CAP;
    /** Largest cap accepted. */
    public static final int MAX_HELLO_BYTES = TunnelServerConfig.MAX_HELLO_CAP;

    private static final int RECORD_HEADER = 5;
    private static final int MAX_RECORD_PAYLOAD = 1 << 14; // RFC 8446 5.1: 2^14
    private static final int HANDSHAKE = 22;
    private static final int CLIENT_HELLO = 1;
    private static final int EXT_SERVER_NAME = 0;
    private static final int MAX_NAME = HostNames.MAX_NAME_LENGTH + 1; // a trailing dot may follow 253 characters

    private final int maxHelloBytes;
    private final byte[] name = new byte[MAX_NAME];
    private final NameChars nameChars = new NameChars();

    // Scan state: record headers already checked and the handshake bytes they carry.
    private int scanned;          // offset of the next record header to check
    private int handshakeBytes;   // handshake payload bytes in complete records seen so far
    private int messageLength;    // 4 + body length once known, else -1
    private final byte[] header = new byte[4];
    private Status status;

    // Result.
    private int nameLength;
    private RefusalReason refusal;
    private String detail;

    // Read cursor over the handshake payload, across record boundaries.
    private ByteBuffer buf;
    private int pos;
    private int recordEnd;
    private int left; // bytes of the message body left to read

    /** A parser with the default 16 KiB cap. */
    public ClientHelloParser() {
        this(DEFAULT_MAX_HELLO_BYTES);
    }

    /**
     * A parser that refuses hellos longer than {@code maxHelloBytes} (counting record headers).
     *
     * @throws IllegalArgumentException unless 512 <= maxHelloBytes <= 65536
     */
    public ClientHelloParser(int maxHelloBytes) {
        if (maxHelloBytes < TunnelServerConfig.MIN_HELLO_CAP || maxHelloBytes > MAX_HELLO_BYTES) {
            throw new IllegalArgumentException("maxHelloBytes must be " + TunnelServerConfig.MIN_HELLO_CAP + ".."
                    + MAX_HELLO_BYTES + ", was "
                    + maxHelloBytes);
        }
        this.maxHelloBytes = maxHelloBytes;
        reset();
    }

    /** Forgets the current connection so the parser can serve another. */
    public void reset() {
        scanned = 0;
        handshakeBytes = 0;
        messageLength = -1;
        status = Status.NEED_MORE;
        nameLength = 0;
        refusal = null;
        detail = null;
        buf = null;
    }

    /** The cap this parser enforces. */
    public int maxHelloBytes() {
        return maxHelloBytes;
    }

    /**
     * Parses the first {@code length} bytes of {@code data} (absolute indexes from 0; position and limit are not
     * used or changed). Once the answer is final (anything but {@code NEED_MORE}) it stays the same until
     * {@link #reset()}.
     */
    public Status parse(ByteBuffer data, int length) {
        if (status != Status.NEED_MORE) {
            return status;
        }
        if (length > maxHelloBytes) {
            return refuse(RefusalReason.HELLO_TOO_LARGE, "hello longer than the configured cap");
        }
        // 1. Check every complete record header once, collecting the handshake message header on the way.
        while (scanned < length) {
            if (scanned == 0 && !looksLikeTls(data, length)) {
                return status;
            }
            if (messageLength >= 0 && handshakeBytes >= messageLength) {
                break; // bytes after the hello (early data, a second flight) are forwarded, never parsed
            }
            if (length - scanned < RECORD_HEADER) {
                return Status.NEED_MORE;
            }
            int type = u8(data, scanned);
            int major = u8(data, scanned + 1);
            int recordLength = u16(data, scanned + 3);
            if (type != HANDSHAKE) {
                return refuse(RefusalReason.MALFORMED_HELLO, "non-handshake record inside the ClientHello");
            }
            if (major != 3) {
                return refuse(RefusalReason.MALFORMED_HELLO, "record version is not 3.x");
            }
            if (recordLength == 0) {
                return refuse(RefusalReason.MALFORMED_HELLO, "zero-length handshake record");
            }
            if (recordLength > MAX_RECORD_PAYLOAD) {
                return refuse(RefusalReason.MALFORMED_HELLO, "record longer than 2^14 bytes");
            }
            int payloadStart = scanned + RECORD_HEADER;
            if ((long) payloadStart + recordLength > maxHelloBytes) {
                return refuse(RefusalReason.HELLO_TOO_LARGE, "hello longer than the configured cap");
            }
            // Collect the 4-byte handshake header from whatever is already here, even before the record completes.
            for (int i = handshakeBytes; i < 4 && i - handshakeBytes < recordLength
                    && payloadStart + i - handshakeBytes < length; i++) {
                header[i] = data.get(payloadStart + i - handshakeBytes);
                if (i == 3 && !checkHeader()) {
                    return status;
                }
            }
            if (length - payloadStart < recordLength) {
                return Status.NEED_MORE;
            }
            handshakeBytes += recordLength;
            scanned = payloadStart + recordLength;
            if (messageLength >= 0 && handshakeBytes > messageLength) {
                return refuse(RefusalReason.MALFORMED_HELLO, "trailing bytes after the ClientHello");
            }
        }
        if (messageLength < 0 || handshakeBytes < messageLength) {
            return Status.NEED_MORE;
        }
        // 2. The whole message is in: parse the body once.
        buf = data;
        try {
            return parseBody();
        } finally {
            buf = null;
        }
    }

    private boolean looksLikeTls(ByteBuffer data, int length) {
        int first = u8(data, 0);
        if (first == HANDSHAKE) {
            return true;
        }
        if ((first & 0x80) != 0) {
            refuse(RefusalReason.NOT_TLS, "SSLv2-compatible ClientHello");
        } else {
            refuse(RefusalReason.NOT_TLS, "not a TLS handshake record");
        }
        return false;
    }

    /** Validates the handshake header once its 4 bytes are known. */
    private boolean checkHeader() {
        if ((header[0] & 0xff) != CLIENT_HELLO) {
            refuse(RefusalReason.MALFORMED_HELLO, "first handshake message is not a ClientHello");
            return false;
        }
        int bodyLength = ((header[1] & 0xff) << 16) | ((header[2] & 0xff) << 8) | (header[3] & 0xff);
        if (bodyLength < 38) {
            refuse(RefusalReason.MALFORMED_HELLO, "ClientHello shorter than its fixed fields");
            return false;
        }
        // The smallest possible framing: one record header per 2^14 payload bytes.
        long framed = 4L + bodyLength + (long) RECORD_HEADER * ((4L + bodyLength + MAX_RECORD_PAYLOAD - 1)
                / MAX_RECORD_PAYLOAD);
        if (framed > maxHelloBytes) {
            refuse(RefusalReason.HELLO_TOO_LARGE, "hello longer than the configured cap");
            return false;
        }
        messageLength = 4 + bodyLength;
        return true;
    }

    private Status parseBody() {
        // Cursor at the first payload byte of the first record, skipping the 4-byte handshake header.
        pos = RECORD_HEADER;
        recordEnd = RECORD_HEADER + u16(buf, 3);
        left = messageLength;
        skip(4);
        skip(2 + 32); // legacy_version, random
        int sessionId = next8();
        if (left < 0) {
            return truncated();
        }
        if (sessionId > 32) {
            return refuse(RefusalReason.MALFORMED_HELLO, "session id longer than 32 bytes");
        }
        if (!skipChecked(sessionId)) {
            return truncated();
        }
        int suites = next16();
        if (left < 0) {
            return truncated();
        }
        if (suites < 2 || (suites & 1) != 0) {
            return refuse(RefusalReason.MALFORMED_HELLO, "cipher suites length is zero or odd");
        }
        if (!skipChecked(suites)) {
            return truncated();
        }
        int compression = next8();
        if (left < 0) {
            return truncated();
        }
        if (compression < 1) {
            return refuse(RefusalReason.MALFORMED_HELLO, "no compression method");
        }
        if (!skipChecked(compression)) {
            return truncated();
        }
        if (left == 0) {
            return finish(Status.NO_SERVER_NAME); // a hello without extensions (TLS 1.2 and older)
        }
        if (left < 2) {
            return truncated();
        }
        int extensions = next16();
        if (extensions != left) {
            return refuse(RefusalReason.MALFORMED_HELLO, "extensions length disagrees with the ClientHello length");
        }
        boolean seenServerName = false;
        while (left > 0) {
            if (left < 4) {
                return truncated();
            }
            int type = next16();
            int extLength = next16();
            if (extLength > left) {
                return refuse(RefusalReason.MALFORMED_HELLO, "extension longer than the extensions block");
            }
            if (type != EXT_SERVER_NAME) {
                skip(extLength);
                continue;
            }
            if (seenServerName) {
                return refuse(RefusalReason.INVALID_SERVER_NAME, "two server_name extensions");
            }
            seenServerName = true;
            Status s = parseServerName(extLength);
            if (s != null) {
                return s;
            }
        }
        return finish(nameLength > 0 ? Status.SERVER_NAME : Status.NO_SERVER_NAME);
    }

    /** Parses the server_name extension body; returns a refusal, or null to continue. */
    private Status parseServerName(int extLength) {
        if (extLength < 2) {
            return refuse(RefusalReason.MALFORMED_HELLO, "server_name extension shorter than its list length");
        }
        int listLength = next16();
        if (listLength != extLength - 2) {
            return refuse(RefusalReason.MALFORMED_HELLO, "server_name list length disagrees with the extension");
        }
        if (listLength == 0) {
            return refuse(RefusalReason.INVALID_SERVER_NAME, "empty server_name list");
        }
        while (listLength > 0) {
            if (listLength < 3) {
                return refuse(RefusalReason.MALFORMED_HELLO, "server_name entry shorter than its header");
            }
            int nameType = next8();
            int length = next16();
            listLength -= 3;
            if (length > listLength) {
                return refuse(RefusalReason.MALFORMED_HELLO, "server name longer than the server_name list");
            }
            listLength -= length;
            if (nameType != 0) {
                return refuse(RefusalReason.INVALID_SERVER_NAME, "server_name entry of a type other than host_name");
            }
            if (nameLength > 0) {
                return refuse(RefusalReason.INVALID_SERVER_NAME, "two host_name entries");
            }
            if (length == 0) {
                return refuse(RefusalReason.INVALID_SERVER_NAME, "empty host_name");
            }
            if (length > MAX_NAME) {
                return refuse(RefusalReason.INVALID_SERVER_NAME, "host_name: longer than 253 characters");
            }
            if (length <= left && recordEnd - pos >= length) { // fast path: the name within the current record
                buf.get(pos, name, 0, length);
                pos += length;
                left -= length;
            } else {
                for (int i = 0; i < length; i++) {
                    name[i] = (byte) next8();
                }
            }
            nameLength = length;
            String problem = nameProblem();
            if (problem != null) {
                nameLength = 0;
                return refuse(RefusalReason.INVALID_SERVER_NAME, problem);
            }
        }
        return null;
    }

    /**
     * Checks the name bytes with fedlink-api's one DNS-name rule ({@link HostNames#dnsNameProblem}), or, when the
     * name holds a ':', as an IPv6 literal; returns a problem or null.
     */
    private String nameProblem() {
        String problem = HostNames.dnsNameProblem(nameChars); // one pass for the usual DNS name
        if (problem == null) {
            return null;
        }
        for (int i = 0; i < nameLength; i++) { // ':' is no DNS character: an IPv6 literal, or nothing
            if (name[i] == ':') {
                return HostNames.parseIpLiteral(nameChars.toString()) == null
                        ? "host_name contains ':' but is not an IPv6 literal" : null;
            }
        }
        return "host_name: " + problem;
    }

    /** The name bytes seen as characters (ISO-8859-1), without copying them. */
    private final class NameChars implements CharSequence {
        @Override
        public int length() {
            return nameLength;
        }

        @Override
        public char charAt(int index) {
            return (char) (name[index] & 0xff);
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return toString().subSequence(start, end);
        }

        @Override
        public String toString() {
            return new String(name, 0, nameLength, StandardCharsets.ISO_8859_1);
        }
    }

    /** The server name in canonical form (lower case, no trailing dot), after {@link Status#SERVER_NAME}. */
    public String serverName() {
        if (status != Status.SERVER_NAME) {
            return null;
        }
        int end = name[nameLength - 1] == '.' ? nameLength - 1 : nameLength;
        char[] chars = new char[end];
        for (int i = 0; i < end; i++) {
            int c = name[i];
            chars[i] = (char) (c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        return new String(chars);
    }

    /** Length in bytes of the server name as sent (with a trailing dot if any), 0 when there is none. */
    public int serverNameLength() {
        return status == Status.SERVER_NAME ? nameLength : 0;
    }

    /** The answer so far. */
    public Status status() {
        return status;
    }

    /** Why the hello was refused, after {@link Status#REFUSED}. */
    public RefusalReason refusalReason() {
        return refusal;
    }

    /** A fixed, human-readable reason for the refusal (never contains client bytes). */
    public String refusalDetail() {
        return detail;
    }

    /** Bytes of the hello records (what was parsed), once the answer is final and not a refusal. */
    public int helloBytes() {
        return scanned;
    }

    private Status truncated() {
        return refuse(RefusalReason.MALFORMED_HELLO, "field runs past the end of the ClientHello");
    }

    private Status refuse(RefusalReason reason, String why) {
        refusal = reason;
        detail = why;
        nameLength = 0;
        status = Status.REFUSED;
        return status;
    }

    private Status finish(Status s) {
        status = s;
        return s;
    }

    // Cursor primitives over the handshake payload. The scan guarantees the message lies within complete handshake
    // records, so crossing into the next record only needs its header skipped. Reads past the message end return 0
    // and drive `left` negative, which the callers turn into a refusal.

    private int next8() {
        if (left <= 0) {
            left--;
            return 0;
        }
        if (pos == recordEnd) {
            recordEnd = pos + RECORD_HEADER + u16(buf, pos + 3);
            pos += RECORD_HEADER;
        }
        left--;
        return buf.get(pos++) & 0xff;
    }

    private int next16() {
        if (left >= 2 && recordEnd - pos >= 2) { // fast path: both bytes in the current record
            int v = ((buf.get(pos) & 0xff) << 8) | (buf.get(pos + 1) & 0xff);
            pos += 2;
            left -= 2;
            return v;
        }
        return (next8() << 8) | next8();
    }

    private void skip(int n) {
        if (n <= left && recordEnd - pos >= n) { // fast path: within the current record
            pos += n;
            left -= n;
            return;
        }
        while (n > 0 && left > 0) {
            if (pos == recordEnd) {
                recordEnd = pos + RECORD_HEADER + u16(buf, pos + 3);
                pos += RECORD_HEADER;
            }
            int step = Math.min(n, Math.min(left, recordEnd - pos));
            pos += step;
            left -= step;
            n -= step;
        }
        left -= n; // anything not skippable ran past the end
    }

    private boolean skipChecked(int n) {
        if (n > left) {
            return false;
        }
        skip(n);
        return true;
    }

    private static int u8(ByteBuffer b, int i) {
        return b.get(i) & 0xff;
    }

    private static int u16(ByteBuffer b, int i) {
        return ((b.get(i) & 0xff) << 8) | (b.get(i + 1) & 0xff);
    }
}
