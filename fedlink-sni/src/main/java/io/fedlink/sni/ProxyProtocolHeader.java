package io.fedlink.sni;

import io.fedlink.api.ProxyProtocol;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * HAProxy PROXY protocol headers (v1 text, v2 binary) announcing the original client to a target. Written once per
 * tunnel, before the ClientHello.
 */
final class ProxyProtocolHeader {
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

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
        boolean v4 = client.getAddress() instanceof Inet4Address && proxy.getAddress() instanceof Inet4Address;
        boolean v6 = !(client.getAddress() instanceof Inet4Address) && !(proxy.getAddress() instanceof Inet4Address);
        String line = v4 || v6
                ? "PROXY " + (v4 ? "TCP4 " : "TCP6 ") + client.getAddress().getHostAddress() + " "
                        + proxy.getAddress().getHostAddress() + " " + client.getPort() + " " + proxy.getPort() + "\r\n"
                : "PROXY UNKNOWN\r\n";
        return line.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] v2(InetSocketAddress client, InetSocketAddress proxy) {
        byte[] src = client.getAddress().getAddress();
        byte[] dst = proxy.getAddress().getAddress();
        boolean same = src.length == dst.length;
        int addrLen = !same ? 0 : src.length == 4 ? 12 : 36;
        ByteBuffer b = ByteBuffer.allocate(16 + addrLen);
        b.put(V2_SIGNATURE);
        b.put((byte) (same ? 0x21 : 0x20)); // version 2, PROXY (or LOCAL when families differ)
        b.put((byte) (!same ? 0x00 : src.length == 4 ? 0x11 : 0x21)); // TCP over IPv4 / IPv6
        b.putShort((short) addrLen);
        if (same) {
            b.put(src).put(dst).putShort((short) client.getPort()).putShort((short) proxy.getPort());
        }
        return b.array();
    }
}
