package io.fedlink.pki;

/** A refused enrollment or renewal; the message names the reason and what to do. Nothing was issued. */
public final class EnrollmentRefusedException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** A refusal with its message. */
    public EnrollmentRefusedException(String message) {
        super(message);
    }
}
