package io.fedlink.api;

import java.net.InetAddress;
import java.util.Arrays;

/**
 * An IPv4 or IPv6 address block such as {@code 10.0.0.0/8} or {@code 2001:db8::/32}, used for per-route client
 * allow lists (Traffic Server's {@code ip_allow}). A bare address means a single host ({@code /32} or
 * {@code /128}). Host bits set below the prefix are refused, so a typo like {@code 10.1.2.3/8} is caught early.
 * An IPv4 block never matches an IPv6 client and vice versa, except that IPv4-mapped IPv6 clients
 * ({@code ::ffff:a.b.c.d}) are matched as IPv4.
 */
public final class CidrBlock {
    private final byte[] network;
    private final int prefix;

    private CidrBlock(byte[] network, int prefix) {
        this.network = network;
        this.prefix = prefix;
    }

    /**
     * Parses {@code address[/prefix]}.
     *
     * @throws IllegalArgumentException naming {@code text} if it is malformed
     */
    public static CidrBlock parse(String text) {
        String s = text == null ? "" : text.strip();
        int slash = s.indexOf('/');
        byte[] addr = HostNames.parseIpLiteral(slash >= 0 ? s.substring(0, slash) : s);
        if (addr == null) {
            throw new IllegalArgumentException("invalid CIDR block " + HostNames.quote(text) + ": not an IP address");
        }
        int max = addr.length * 8;
        int prefix = max;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(s.substring(slash + 1));
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > max) {
                throw new IllegalArgumentException("invalid CIDR block " + HostNames.quote(text)
                        + ": prefix must be 0.." + max);
            }
        }
        for (int bit = prefix; bit < max; bit++) {
            if ((addr[bit / 8] & (0x80 >>> (bit % 8))) != 0) {
                throw new IllegalArgumentException("invalid CIDR block " + HostNames.quote(text)
                        + ": host bits set beyond /" + prefix);
            }
        }
        return new CidrBlock(addr, prefix);
    }

    /** Whether {@code address} lies in this block. */
    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length == 16 && network.length == 4 && isV4Mapped(a)) {
            a = Arrays.copyOfRange(a, 12, 16);
        }
        if (a.length != network.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != network[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (a[full] & mask) == (network[full] & mask);
    }

    /** Whether every address of {@code other} lies in this block (the same family, a prefix as long or longer). */
    public boolean contains(CidrBlock other) {
        try {
            return other.network.length == network.length && other.prefix >= prefix
                    && contains(InetAddress.getByAddress(other.network)); // an address literal: no lookup
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static boolean isV4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    /** The prefix length in bits. */
    public int prefixLength() {
        return prefix;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CidrBlock c && c.prefix == prefix && Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefix;
    }

    @Override
    public String toString() {
        try {
            return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
