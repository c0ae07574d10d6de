package io.fedlink.pki;

import java.util.Locale;
import org.bouncycastle.asn1.x509.CRLReason;

/** Why a certificate was revoked (RFC 5280 5.3.1), as recorded in the CRL. */
public enum RevocationReason {
    /** No reason given. */
    UNSPECIFIED(CRLReason.unspecified),
    /** The private key leaked. */
    KEY_COMPROMISE(CRLReason.keyCompromise),
    /** The holder changed (party left the federation, renamed). */
    AFFILIATION_CHANGED(CRLReason.affiliationChanged),
    /** Replaced by a new certificate. */
    SUPERSEDED(CRLReason.superseded),
    /** The holder no longer operates. */
    CESSATION_OF_OPERATION(CRLReason.cessationOfOperation);

    private final int code;

    RevocationReason(int code) {
        this.code = code;
    }

    /** The RFC 5280 reason code. */
    int code() {
        return code;
    }

    /** Parses {@code key-compromise}, {@code superseded}, ... in any case. */
    public static RevocationReason parse(String text) {
        try {
            return valueOf(text.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown revocation reason '" + text + "': use unspecified, "
                    + "key-compromise, affiliation-changed, superseded or cessation-of-operation");
        }
    }
}
