package io.fedlink.sni;

import io.fedlink.api.RefusalReason;

/** The fatal TLS alert records a refusal is answered with (RFC 8446 6). */
final class TlsAlerts {
    static final int ACCESS_DENIED = 49;
    static final int DECODE_ERROR = 50;
    static final int INTERNAL_ERROR = 80;
    static final int UNRECOGNIZED_NAME = 112;

    private TlsAlerts() {}

    /** The alert description for a refusal, or -1 for refusals that close without an alert. */
    static int forRefusal(RefusalReason reason) {
        return switch (reason) {
            case NO_SERVER_NAME, UNKNOWN_SERVER_NAME -> UNRECOGNIZED_NAME;
            case NOT_TLS, MALFORMED_HELLO, HELLO_TOO_LARGE, INVALID_SERVER_NAME -> DECODE_ERROR;
            case CLIENT_NOT_ALLOWED -> ACCESS_DENIED;
            case INTERNAL_ERROR -> INTERNAL_ERROR;
            default -> -1;
        };
    }

    /** A fatal alert record: content type 21, TLS 1.2 record version, length 2, level 2, description. */
    static byte[] record(int description) {
        return new byte[] {21, 3, 3, 0, 2, 2, (byte) description};
    }
}
