package io.fedlink.api;

import java.util.Locale;

/**
 * Host-name rules shared by every fedlink module: what counts as a DNS name, what counts as an IP literal, and the
 * one canonical form names are compared in.
 *
 * <p>A DNS name here is an LDH name (RFC 1123): labels of letters, digits and inner hyphens, 1..63 characters
 * each, at most 253 characters in all, optionally with one trailing dot (ignored). Underscores, spaces, empty
 * labels and non-ASCII characters are refused; internationalised names must arrive in their {@code xn--} form.
 * An IP literal is a dotted-quad IPv4 address or an IPv6 address, optionally in brackets; it is never looked up.
 */
public final class HostNames {
    /** Longest DNS name accepted, without the trailing dot (RFC 1035 2.3.4). */
    public static final int MAX_NAME_LENGTH = 253;
    /** Longest label accepted (RFC 1035 2.3.4). */
    public static final int MAX_LABEL_LENGTH = 63;

    private HostNames() {}

    /**
     * Returns the canonical form of a DNS name: lower case, without a trailing dot.
     *
     * @throws IllegalArgumentException if {@code name} is not a valid DNS name; the message names it
     */
    public static String canonicalDnsName(String name) {
        String problem = dnsNameProblem(name);
        if (problem != null) {
            throw new IllegalArgumentException("invalid DNS name " + quote(name) + ": " + problem);
        }
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }

    /** Whether {@code name} is a valid DNS name (see the class comment). */
    public static boolean isDnsName(CharSequence name) {
        return dnsNameProblem(name) == null;
    }

    /**
     * Why {@code name} is not a valid DNS name, or {@code null} if it is one. Used to build precise error messages.
     */
    public static String dnsNameProblem(CharSequence name) {
        if (name == null) {
            return "null";
        }
        int end = name.length();
        if (end > 0 && name.charAt(end - 1) == '.') {
            end--;
        }
        if (end == 0) {
            return "empty";
        }
        if (end > MAX_NAME_LENGTH) {
            return "longer than " + MAX_NAME_LENGTH + " characters";
        }
        int labelStart = 0;
        for (int i = 0; i <= end; i++) {
            char c = i < end ? name.charAt(i) : '.';
            if (c == '.') {
                int len = i - labelStart;
                if (len == 0) {
                    return "empty label at offset " + i;
                }
                if (len > MAX_LABEL_LENGTH) {
                    return "label longer than " + MAX_LABEL_LENGTH + " characters at offset " + labelStart;
                }
                if (name.charAt(labelStart) == '-' || name.charAt(i - 1) == '-') {
                    return "label starts or ends with '-' at offset " + labelStart;
                }
                labelStart = i + 1;
            } else if (!isLdh(c)) {
                return "character " + printable(c) + " not allowed at offset " + i;
            }
        }
        return null;
    }

    /** Whether {@code c} is a letter, digit or hyphen (ASCII). */
    static boolean isLdh(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    }

    /**
     * Whether {@code host} is an IPv4 or IPv6 literal (IPv6 optionally in brackets). Never performs a lookup.
     */
    public static boolean isIpLiteral(String host) {
        return parseIpLiteral(host) != null;
    }

    /**
     * The address bytes of an IP literal (4 or 16 bytes), or {@code null} if {@code host} is not one. Never performs
     * a lookup.
     */
    public static byte[] parseIpLiteral(String host) {
        if (host == null || host.isEmpty()) {
            return null;
        }
        String h = host;
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
            return h.indexOf(':') >= 0 ? parseIpv6(h) : null;
        }
        return h.indexOf(':') >= 0 ? parseIpv6(h) : parseIpv4(h);
    }

    /**
     * The canonical text of an IP literal, used to compare addresses written differently ({@code ::1} and
     * {@code 0:0:0:0:0:0:0:1}); {@code null} if {@code host} is not an IP literal.
     */
    public static String canonicalIpLiteral(String host) {
        byte[] ip = parseIpLiteral(host);
        if (ip == null) {
            return null;
        }
        try {
            return java.net.InetAddress.getByAddress(ip).getHostAddress();
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes cannot be invalid", e);
        }
    }

    /**
     * The 4 bytes of a dotted-quad IPv4 literal (four decimal numbers 0..255, no leading zeros), or {@code null}.
     * Reads {@code s} in place (a view over received bytes will do); never performs a lookup.
     */
    public static byte[] parseIpv4(CharSequence s) {
        byte[] out = new byte[4];
        int part = 0;
        int value = -1;
        int digits = 0;
        for (int i = 0; i <= s.length(); i++) {
            char c = i < s.length() ? s.charAt(i) : '.';
            if (c == '.') {
                if (digits == 0 || part == 4) {
                    return null;
                }
                out[part++] = (byte) value;
                value = -1;
                digits = 0;
            } else if (c >= '0' && c <= '9') {
                if (digits > 0 && value == 0) {
                    return null; // no leading zeros: "010" is octal in some stacks
                }
                value = (value < 0 ? 0 : value * 10) + (c - '0');
                if (++digits > 3 || value > 255) {
                    return null;
                }
            } else {
                return null;
            }
        }
        return part == 4 ? out : null;
    }

    /**
     * The 16 bytes of an IPv6 literal without brackets or zone (colon-hex groups of 1..4 digits, at most one
     * {@code ::}, optionally an IPv4 tail, 128 bits in all), or {@code null}. Never performs a lookup.
     */
    public static byte[] parseIpv6(String s) {
        if (s.indexOf('%') >= 0 || s.length() > 45) {
            return null; // zone ids are host-local: refuse rather than guess
        }
        int gap = s.indexOf("::");
        if (gap >= 0 && s.indexOf("::", gap + 1) >= 0) {
            return null;
        }
        byte[] out = new byte[16];
        int head = groups(s, 0, gap >= 0 ? gap : s.length(), gap < 0, out);
        if (gap < 0 || head < 0) {
            return head == 16 ? out : null;
        }
        byte[] tail = new byte[16];
        int n = groups(s, gap + 2, s.length(), true, tail);
        if (n < 0 || head + n > 14) {
            return null;
        }
        System.arraycopy(tail, 0, out, 16 - n, n);
        return out;
    }

    /**
     * Parses the colon-separated hex groups of {@code s[from, to)} into {@code out}; the last one may be an embedded
     * IPv4 address when {@code last}. Returns the bytes written, or -1 if a group is invalid or there are too many.
     */
    private static int groups(String s, int from, int to, boolean last, byte[] out) {
        int n = 0;
        for (int start = from, i = from; from < to && i <= to; i++) {
            if (i < to && s.charAt(i) != ':') {
                continue;
            }
            if (last && i == to && s.lastIndexOf('.', to - 1) >= start) {
                byte[] v4 = parseIpv4(s.subSequence(start, to));
                if (v4 == null || n + 4 > 16) {
                    return -1;
                }
                System.arraycopy(v4, 0, out, n, 4);
                return n + 4;
            }
            if (i - start < 1 || i - start > 4 || n + 2 > 16) {
                return -1;
            }
            int v = 0;
            for (int k = start; k < i; k++) {
                int d = Character.digit(s.charAt(k), 16);
                if (d < 0) {
                    return -1;
                }
                v = v * 16 + d;
            }
            out[n++] = (byte) (v >> 8);
            out[n++] = (byte) v;
            start = i + 1;
        }
        return n;
    }

    /** Quotes a user-supplied value for an error message, escaping control characters and capping its length. */
    public static String quote(CharSequence value) {
        if (value == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("'");
        int n = Math.min(value.length(), 80);
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c == '\'' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || c >= 0x7f) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        if (value.length() > n) {
            sb.append("...(").append(value.length()).append(" chars)");
        }
        return sb.append('\'').toString();
    }

    private static String printable(char c) {
        return c < 0x20 || c >= 0x7f ? String.format("U+%04X", (int) c) : "'" + c + "'";
    }
}
