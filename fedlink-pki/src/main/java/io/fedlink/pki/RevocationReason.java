package io.fedlink.pki;

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
}
