package io.fedlink.sni;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/** Builds ClientHellos for tests: real ones from JSSE and captured clients, and synthetic ones to break. */
final class Hellos {
    private Hellos() {}

    /** A real ClientHello as JSSE of this JDK sends it, with SNI {@code name}. */
    static byte[] jsse(String name) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, null, null);
            SSLEngine engine = ctx.createSSLEngine(name, 443);
            engine.setUseClientMode(true);
            SSLParameters p = engine.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(name)));
            engine.setSSLParameters(p);
            ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            engine.wrap(ByteBuffer.allocate(0), out);
            out.flip();
            byte[] b = new byte[out.remaining()];
            out.get(b);
            return b;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A hello captured from a real client into test resources. */
    static byte[] captured(String file) {
        try (InputStream in = Hellos.class.getResourceAsStream("/hellos/" + file)) {
            if (in == null) {
                throw new IllegalArgumentException("no captured hello " + file);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The server_name extension (type 0) listing host_name entries. */
    static byte[] sniExtension(String... names) {
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (String n : names) {
            byte[] b = n.getBytes(StandardCharsets.ISO_8859_1);
            list.write(0);
            u16(list, b.length);
            list.writeBytes(b);
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        u16(body, list.size());
        body.writeBytes(list.toByteArray());
        return extension(0, body.toByteArray());
    }

    /** One extension. */
    static byte[] extension(int type, byte[] body) {
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        u16(e, type);
        u16(e, body.length);
        e.writeBytes(body);
        return e.toByteArray();
    }

    /** A ClientHello handshake message (type + 24-bit length + body) with these extensions. */
    static byte[] clientHello(byte[]... extensions) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        u16(body, 0x0303);
        body.writeBytes(new byte[32]);
        body.write(32);
        body.writeBytes(new byte[32]);
        u16(body, 4);
        u16(body, 0x1301);
        u16(body, 0xc02b);
        body.write(1);
        body.write(0);
        ByteArrayOutputStream ext = new ByteArrayOutputStream();
        for (byte[] e : extensions) {
            ext.writeBytes(e);
        }
        u16(body, ext.size());
        body.writeBytes(ext.toByteArray());
        ByteArrayOutputStream msg = new ByteArrayOutputStream();
        msg.write(1);
        msg.write(body.size() >> 16);
        u16(msg, body.size() & 0xffff);
        msg.writeBytes(body.toByteArray());
        return msg.toByteArray();
    }

    /** Frames a handshake message into records of at most {@code fragment} payload bytes. */
    static byte[] records(byte[] message, int fragment) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int off = 0; off < message.length; off += fragment) {
            int n = Math.min(fragment, message.length - off);
            out.write(22);
            u16(out, 0x0301);
            u16(out, n);
            out.write(message, off, n);
        }
        return out.toByteArray();
    }

    /** Re-frames a single-record hello into records of at most {@code fragment} payload bytes. */
    static byte[] refragment(byte[] hello, int fragment) {
        ByteArrayOutputStream msg = new ByteArrayOutputStream();
        int off = 0;
        while (off < hello.length) {
            int n = ((hello[off + 3] & 0xff) << 8) | (hello[off + 4] & 0xff);
            msg.write(hello, off + 5, n);
            off += 5 + n;
        }
        return records(msg.toByteArray(), fragment);
    }

    private static void u16(ByteArrayOutputStream out, int v) {
        out.write(v >> 8);
        out.write(v);
    }

    /** The ASCII bytes of {@code s}. */
    static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** {@code a} followed by {@code b}. */
    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
