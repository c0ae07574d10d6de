package io.fedlink.sni;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * The wire format between a party {@link Agent} and the proxy's agent listener ({@link AgentHub}); both sides use
 * this class, so they cannot drift apart.
 *
 * <p><b>Control connection</b> (mutual TLS, the party's certificate): ASCII lines ending in {@code \n}, at most
 * {@value #MAX_LINE} bytes each.
 * <pre>
 * agent -&gt; proxy   AGENT 1                  first line: the protocol version
 * proxy -&gt; agent   OK &lt;party&gt; &lt;max-pool&gt;   accepted as the party its certificate names
 * proxy -&gt; agent   NO &lt;reason&gt;              refused (then closed): the reason is for the operator
 * agent -&gt; proxy   TOKEN &lt;32 hex digits&gt;     announces a data connection about to be opened
 * agent -&gt; proxy   PING                     keep-alive; the proxy answers PONG
 * </pre>
 * <b>Data connection</b> (plain TCP: it carries the client's own TLS end to end): the 4 bytes {@code FLD1} and the
 * 16 token bytes, then nothing until the proxy hands it a tunnel; the first bytes the agent reads are the client's
 * ClientHello, and from then on it relays both ways to its fixed target. A TLS record starts with {@code 0x16},
 * so the first byte tells the two kinds apart on one port.
 */
final class AgentProtocol {
    /** Protocol version an agent announces. */
    static final int VERSION = 1;
    /** Longest control line, newline included. */
    static final int MAX_LINE = 128;
    /** Bytes of a data connection's token. */
    static final int TOKEN_BYTES = 16;
    /** First bytes of a data connection. */
    static final byte[] DATA_MAGIC = {'F', 'L', 'D', '1'};
    /** First byte of a TLS handshake record: a control connection. */
    static final int TLS_HANDSHAKE = 0x16;

    private AgentProtocol() {}

    /** A control line refused: too long, not printable ASCII, or not a command the other side may send. */
    static final class ProtocolException extends IOException {
        ProtocolException(String message) {
            super(message);
        }
    }

    /** One parsed control line. */
    record Line(String verb, String arg) {}

    /**
     * Reads one line (without its {@code \n}); {@code null} at the end of the stream before any byte.
     *
     * @throws ProtocolException if the line is longer than {@link #MAX_LINE} bytes, is cut by the end of the stream,
     *                           or holds a byte outside printable ASCII
     */
    static String readLine(InputStream in) throws IOException {
        byte[] buf = new byte[MAX_LINE];
        int n = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (n == 0) {
                    return null;
                }
                throw new ProtocolException("control line cut after " + n + " bytes");
            }
            if (b == '\n') {
                return new String(buf, 0, n, StandardCharsets.US_ASCII);
            }
            if (b < 0x20 || b > 0x7e) {
                throw new ProtocolException("control line holds byte 0x" + Integer.toHexString(b));
            }
            if (n == MAX_LINE - 1) {
                throw new ProtocolException("control line longer than " + (MAX_LINE - 1) + " bytes");
            }
            buf[n++] = (byte) b;
        }
    }

    /** Writes one line and flushes. */
    static void writeLine(OutputStream out, String line) throws IOException {
        if (line.length() >= MAX_LINE || line.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("control line too long or multi-line: " + line.length() + " chars");
        }
        out.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /**
     * Parses a line an agent sent: {@code AGENT <n>}, {@code TOKEN <hex>} or {@code PING}.
     *
     * @throws ProtocolException naming what was wrong
     */
    static Line fromAgent(String line) throws ProtocolException {
        Line l = split(line);
        switch (l.verb) {
            case "AGENT" -> {
                if (!l.arg.matches("[1-9][0-9]{0,3}")) {
                    throw new ProtocolException("AGENT needs a version number, got '" + l.arg + "'");
                }
            }
            case "TOKEN" -> token(l.arg);
            case "PING" -> requireNoArg(l);
            default -> throw new ProtocolException("unknown command '" + l.verb + "' from an agent");
        }
        return l;
    }

    /**
     * Parses a line the proxy sent: {@code OK <party> <max-pool>}, {@code NO <reason>} or {@code PONG}.
     *
     * @throws ProtocolException naming what was wrong
     */
    static Line fromProxy(String line) throws ProtocolException {
        Line l = split(line);
        switch (l.verb) {
            case "OK" -> {
                if (!l.arg.matches("[a-z0-9-]{1,63} [1-9][0-9]{0,3}")) {
                    throw new ProtocolException("OK needs a party and a pool size, got '" + l.arg + "'");
                }
            }
            case "NO" -> { }
            case "PONG" -> requireNoArg(l);
            default -> throw new ProtocolException("unknown answer '" + l.verb + "' from the proxy");
        }
        return l;
    }

    private static Line split(String line) throws ProtocolException {
        if (line.isEmpty()) {
            throw new ProtocolException("empty control line");
        }
        int sp = line.indexOf(' ');
        return sp < 0 ? new Line(line, "") : new Line(line.substring(0, sp), line.substring(sp + 1));
    }

    private static void requireNoArg(Line l) throws ProtocolException {
        if (!l.arg.isEmpty()) {
            throw new ProtocolException(l.verb + " takes no argument");
        }
    }

    /**
     * The token bytes of {@code hex} (exactly 32 lower-case hex digits).
     *
     * @throws ProtocolException otherwise
     */
    static byte[] token(String hex) throws ProtocolException {
        if (hex.length() != 2 * TOKEN_BYTES || !hex.chars().allMatch(c -> c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
            throw new ProtocolException("TOKEN needs " + 2 * TOKEN_BYTES + " lower-case hex digits");
        }
        return HexFormat.of().parseHex(hex);
    }

    /** {@code token} as the hex digits of a TOKEN line. */
    static String hex(byte[] token) {
        return HexFormat.of().formatHex(token);
    }

    /** The first bytes of a data connection for {@code token}. */
    static byte[] dataPreamble(byte[] token) {
        byte[] out = new byte[DATA_MAGIC.length + TOKEN_BYTES];
        System.arraycopy(DATA_MAGIC, 0, out, 0, DATA_MAGIC.length);
        System.arraycopy(token, 0, out, DATA_MAGIC.length, TOKEN_BYTES);
        return out;
    }
}
