package io.fedlink.sni;

import io.fedlink.api.ProxyProtocol;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * HAProxy PROXY protocol headers (v1 text, v2 binary) announcing the original client to a target. Written once per
 * tunnel, before the ClientHello.
 */
final class ProxyProtocolHeader {
    static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    private ProxyProtocolHeader() {}

    /** The header bytes for {@code version}, or an empty array for {@link ProxyProtocol#NONE}. */
    static byte[] encode(ProxyProtocol version, InetSocketAddress client, InetSocketAddress proxy) {
        return switch (version) {
            case NONE -> new byte[0];
            case V1 -> v1(client, proxy);
            case V2 -> v2(client, proxy);
        };
    }

    private static byte[] v1(InetSocketAddress client, InetSocketAddress proxy) {
        byte[] src = client.getAddress().getAddress();
        byte[] dst = proxy.getAddress().getAddress();
        String line = src.length == dst.length
                ? "PROXY " + (src.length == 4 ? "TCP4 " : "TCP6 ") + client.getAddress().getHostAddress() + " "
                        + proxy.getAddress().getHostAddress() + " " + client.getPort() + " " + proxy.getPort() + "\r\n"
                : "PROXY TCP6 " + v6Text(widened(src)) + " " + v6Text(widened(dst)) + " " + client.getPort() + " "
                        + proxy.getPort() + "\r\n";
        return line.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Both addresses in one family: an IPv4 address next to an IPv6 one becomes IPv4-mapped IPv6 (as a client
     * address from an incoming PROXY header of the other family than the proxy's own socket may be).
     */
    private static byte[] widened(byte[] address) {
        if (address.length == 16) {
            return address;
        }
        byte[] v6 = new byte[16];
        v6[10] = (byte) 0xFF;
        v6[11] = (byte) 0xFF;
        System.arraycopy(address, 0, v6, 12, 4);
        return v6;
    }

    /** Colon-hex text of 16 address bytes (the JDK would print a mapped address as IPv4). */
    private static String v6Text(byte[] a) {
        StringBuilder sb = new StringBuilder(39);
        for (int i = 0; i < 16; i += 2) {
            sb.append(i == 0 ? "" : ":").append(Integer.toHexString((a[i] & 0xFF) << 8 | a[i + 1] & 0xFF));
        }
        return sb.toString();
    }

    private static byte[] v2(InetSocketAddress client, InetSocketAddress proxy) {
        byte[] src = client.getAddress().getAddress();
        byte[] dst = proxy.getAddress().getAddress();
        if (src.length != dst.length) {
            src = widened(src);
            dst = widened(dst);
        }
        boolean v4 = src.length == 4;
        ByteBuffer b = ByteBuffer.allocate(16 + (v4 ? 12 : 36));
        b.put(V2_SIGNATURE);
        b.put((byte) 0x21); // version 2, PROXY
        b.put((byte) (v4 ? 0x11 : 0x21)); // TCP over IPv4 / IPv6
        b.putShort((short) (v4 ? 12 : 36));
        b.put(src).put(dst).putShort((short) client.getPort()).putShort((short) proxy.getPort());
        return b.array();
    }
}
