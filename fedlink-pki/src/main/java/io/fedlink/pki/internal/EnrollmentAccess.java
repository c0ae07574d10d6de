package io.fedlink.pki.internal;

import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.EnrollmentAuthority;
import io.fedlink.pki.IssuedCertificate;
import io.fedlink.pki.RevocationReason;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Internal, not API: what the enrollment server ({@code io.fedlink.pki.enroll}) does with an
 * {@link EnrollmentAuthority} beyond its public methods (following the CA folder, issuing and revoking its own
 * certificate), which the authority keeps package-private. {@link EnrollmentAuthority} installs the view when its
 * class initialises, so any authority instance has one; a second installation is refused.
 */
public final class EnrollmentAccess {
    private static Function<EnrollmentAuthority, View> views;

    private EnrollmentAccess() {}

    /** The enrollment server's view of an authority. */
    public interface View {
        /** Loads the CA folder again when its CA changed; returns whether it did. */
        boolean refresh() throws IOException;

        /** How many times the issuing CA changed since the authority was made. */
        long caGeneration();

        /** The CA folder. */
        Path caDir();

        /** The roots parties should trust now (both during a rollover's overlap). */
        List<X509Certificate> trustBundle() throws IOException;

        /** Issues the endpoint's own certificate; {@code supersedes}, when given, is revoked as superseded. */
        IssuedCertificate issueEndpoint(CertificateRequest request, BigInteger supersedes) throws IOException;

        /** Revokes {@code serial} in whichever index of the folder holds it; false if none does. */
        boolean revokeAnywhere(BigInteger serial, RevocationReason reason) throws IOException;
    }

    /**
     * Installs how views are made; called once, by {@link EnrollmentAuthority}'s class initialiser.
     *
     * @throws IllegalStateException on a second call
     */
    public static synchronized void install(Function<EnrollmentAuthority, View> factory) {
        if (views != null) {
            throw new IllegalStateException("the enrollment access is installed already");
        }
        views = Objects.requireNonNull(factory, "factory");
    }

    /** The view of {@code authority}. */
    public static synchronized View of(EnrollmentAuthority authority) {
        Objects.requireNonNull(authority, "authority"); // an instance: its class, and so the factory, is initialised
        return views.apply(authority);
    }
}
