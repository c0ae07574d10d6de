package io.fedlink.api;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * A host and a port that fedlink connects to or listens on.
 *
 * <p>The host is a DNS name or an IP literal (IPv6 written without brackets here, with them in {@link #toString()});
 * the port is 1..65535. Anything else is refused at construction with a message naming the value. Creating an
 * endpoint never performs a DNS lookup; {@link #toSocketAddress()} is the only place that may resolve.
 *
 * @param host canonical host: a lower-case DNS name without trailing dot, or an IP literal without brackets
 * @param port TCP port, 1..65535
 */
public record Endpoint(String host, int port) {

    /** Validates and canonicalises the host. */
    public Endpoint {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("invalid port " + port + " for host " + HostNames.quote(host)
                    + ": must be 1..65535");
        }
        host = canonicalHost(host);
    }

    /** Creates an endpoint; see the class comment for what is refused. */
    public static Endpoint of(String host, int port) {
        return new Endpoint(host, port);
    }

    /**
     * Parses {@code host:port}, {@code [v6]:port} or, when {@code defaultPort > 0}, a bare host.
     *
     * @param text        the text to parse
     * @param defaultPort port to use when none is given, or 0 to require one
     * @throws IllegalArgumentException naming {@code text} when it is malformed
     */
    public static Endpoint parse(String text, int defaultPort) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("invalid endpoint " + HostNames.quote(text) + ": empty");
        }
        String s = text.strip();
        String host;
        String port = null;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("invalid endpoint " + HostNames.quote(text) + ": missing ']'");
            }
            host = s.substring(1, close);
            if (HostNames.parseIpv6(host) == null) {
                throw new IllegalArgumentException("invalid endpoint " + HostNames.quote(text) + ": "
                        + HostNames.quote(host) + " is not an IPv6 address");
            }
            String rest = s.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw new IllegalArgumentException("invalid endpoint " + HostNames.quote(text)
                            + ": expected ':port' after ']'");
                }
                port = rest.substring(1);
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon >= 0 && s.indexOf(':') != colon) {
                throw new IllegalArgumentException("invalid endpoint " + HostNames.quote(text)
                        + ": write IPv6 addresses as [address]:port");
            }
            host = colon >= 0 ? s.substring(0, colon) : s;
            port = colon >= 0 ? s.substring(colon + 1) : null;
        }
        int p;
        if (port == null) {
            if (defaultPort <= 0) {
                throw new IllegalArgumentException("invalid endpoint " + HostNames.quote(text) + ": no port");
            }
            p = defaultPort;
        } else {
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid endpoint " + HostNames.quote(text) + ": port "
                        + HostNames.quote(port) + " is not a number");
            }
        }
        try {
            return new Endpoint(host, p);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid endpoint " + HostNames.quote(text) + ": " + e.getMessage(), e);
        }
    }

    /** Parses {@code host:port}; a port is required. */
    public static Endpoint parse(String text) {
        return parse(text, 0);
    }

    /** Whether the host is an IP literal rather than a DNS name. */
    public boolean isIpLiteral() {
        return HostNames.parseIpLiteral(host) != null;
    }

    /**
     * An unresolved socket address for a DNS name, a resolved one (without lookup) for an IP literal. Callers that
     * connect through NIO resolve DNS names themselves, off any event loop.
     */
    public InetSocketAddress toSocketAddress() {
        byte[] ip = HostNames.parseIpLiteral(host);
        if (ip == null) {
            return InetSocketAddress.createUnresolved(host, port);
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip), port);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes cannot be invalid", e);
        }
    }

    /** {@code host:port}, with IPv6 hosts in brackets. */
    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }

    private static String canonicalHost(String host) {
        if (host == null) {
            throw new IllegalArgumentException("invalid host null");
        }
        String h = host;
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
            if (HostNames.parseIpv6(h) == null) {
                throw new IllegalArgumentException("invalid host " + HostNames.quote(host) + ": not an IPv6 address");
            }
        }
        if (HostNames.parseIpLiteral(h) != null) {
            return h.toLowerCase(Locale.ROOT);
        }
        if (h.indexOf(':') >= 0) {
            throw new IllegalArgumentException("invalid host " + HostNames.quote(host) + ": not an IPv6 address");
        }
        String problem = HostNames.dnsNameProblem(h);
        if (problem != null) {
            throw new IllegalArgumentException("invalid host " + HostNames.quote(host) + ": " + problem);
        }
        return HostNames.canonicalDnsName(h);
    }
}
