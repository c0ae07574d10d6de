/**
 * fedlink's certificate authority, the core of its PKI: {@link io.fedlink.pki.CertificateAuthority} (create, issue,
 * sign CSRs, revoke, CRLs), {@link io.fedlink.pki.CertificateRequest} (what to issue, with a
 * {@link io.fedlink.pki.Profile} and a {@link io.fedlink.pki.KeyType}), {@link io.fedlink.pki.IssuedCertificate}
 * (a certificate with its key, as PEM, key stores or TLS material), {@link io.fedlink.pki.RevocationReason}, and
 * {@link io.fedlink.pki.CaFolder}, a CA kept as a folder with the rules every command on it follows (lock, own
 * files, saving, listing the index, root rollover, enrollment tokens, removing a party). The CA side of enrollment
 * decides here too ({@link io.fedlink.pki.EnrollmentAuthority}, for a folder and a domain); its HTTPS server and
 * the party side are in {@code io.fedlink.pki.enroll}. Everything else is package-private, or in
 * {@code io.fedlink.pki.internal}, which is not API.
 *
 * <pre>{@code
 * CertificateAuthority ca = CertificateAuthority.builder().commonName("fate.org CA").permitDns("fate.org").create();
 * IssuedCertificate broker = ca.issue(CertificateRequest.party("10000", "fate.org"));
 * SSLContext tls = broker.tlsMaterial().serverContext(ClientAuth.REQUIRED);
 * }</pre>
 */
package io.fedlink.pki;
