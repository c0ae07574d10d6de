/**
 * Enrollment and renewal over HTTPS. The CA side runs an {@link io.fedlink.pki.enroll.EnrollmentServer} on an
 * {@link io.fedlink.pki.EnrollmentAuthority} (one-time tokens for first certificates, the current certificate for
 * renewals); a party makes its key itself and asks with an {@link io.fedlink.pki.enroll.EnrollmentClient}, keeps the
 * result in {@link io.fedlink.pki.enroll.PartyFiles} (a folder with a {@code current} link that services read, or
 * watch) and renews before expiry with a {@link io.fedlink.pki.enroll.Renewer}.
 *
 * <pre>{@code
 * EnrollmentClient client = new EnrollmentClient(URI.create("https://ca.fate.org:8443"));
 * PartyFiles files = new PartyFiles(Path.of("party-9999"));
 * files.write(client.enroll(caRoot, token, "9999", "fate.org", KeyType.EC_P256, null));
 * Renewer renewer = Renewer.builder(client, files).build();
 * renewer.start();                                   // renews at about 2/3 of each lifetime
 * }</pre>
 */
package io.fedlink.pki.enroll;
