package io.fedlink.pki;

import io.fedlink.pki.CertificateAuthority.IndexEntry;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What a CA issued: serial, expiry, revocation and subject of each certificate, oldest first, and the last CRL
 * number. Its text form is the CA folder's {@code index.tsv}. Not thread-safe: the CA guards it.
 */
final class CaIndex {
    private static final String HEADER = "# serial\tnot_after\trevoked_at\treason\tsubject";
    private static final String CRL_NUMBER = "# crl_number\t";

    private final Map<BigInteger, IndexEntry> entries = new LinkedHashMap<>();
    private long crlNumber;

    /** Records an issued certificate; {@code subject} is what the index shows for it. */
    void add(X509Certificate cert, String subject) {
        entries.put(cert.getSerialNumber(), new IndexEntry(cert.getSerialNumber(), subject,
                cert.getNotAfter().toInstant(), null, null));
    }

    /**
     * Revokes an issued certificate; revoking twice keeps the first revocation.
     *
     * @throws IllegalArgumentException if {@code serial} is not in the index
     */
    void revoke(BigInteger serial, RevocationReason reason) {
        IndexEntry e = entries.get(serial);
        if (e == null) {
            throw new IllegalArgumentException("serial " + serial.toString(16) + " was not issued by this CA");
        }
        if (!e.revoked()) {
            entries.put(serial, new IndexEntry(serial, e.subject(), e.notAfter(), Instant.now(),
                    Objects.requireNonNull(reason, "reason")));
        }
    }

    /** The entries, oldest first. */
    List<IndexEntry> entries() {
        return List.copyOf(entries.values());
    }

    /** Advances and returns the CRL number. */
    long nextCrlNumber() {
        return ++crlNumber;
    }

    /** The {@code index.tsv} text. */
    String text() {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        sb.append(CRL_NUMBER).append(crlNumber).append('\n');
        for (IndexEntry e : entries.values()) {
            sb.append(e.serial().toString(16)).append('\t').append(e.notAfter()).append('\t')
                    .append(e.revoked() ? e.revokedAt().toString() : "-").append('\t')
                    .append(e.revoked() ? e.reason().name().toLowerCase(Locale.ROOT) : "-").append('\t')
                    .append(e.subject().replace('\t', ' ').replace('\n', ' ')).append('\n');
        }
        return sb.toString();
    }

    /**
     * Reads {@code index.tsv} into this index (entries added; revocations kept from either side; the higher CRL
     * number); a damaged line fails naming the file and line.
     */
    void read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String where = file + ":" + (i + 1) + ": ";
            if (line.startsWith(CRL_NUMBER)) {
                try {
                    crlNumber = Math.max(crlNumber, Long.parseLong(line.substring(CRL_NUMBER.length()).strip()));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(where + "bad crl_number");
                }
                continue;
            }
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t", -1);
            if (f.length != 5) {
                throw new IllegalArgumentException(where + "expected 5 tab-separated fields, found " + f.length);
            }
            try {
                BigInteger serial = new BigInteger(f[0], 16);
                Instant revokedAt = f[2].equals("-") ? null : Instant.parse(f[2]);
                RevocationReason reason = f[3].equals("-") ? null : RevocationReason.parse(f[3]);
                if ((revokedAt == null) != (reason == null)) {
                    throw new IllegalArgumentException("revoked_at and reason must both be set or both be '-'");
                }
                // a revocation is never undone by reading: one known here stays (merging a folder's index)
                entries.merge(serial, new IndexEntry(serial, f[4], Instant.parse(f[1]), revokedAt, reason),
                        (known, read) -> known.revoked() ? known : read);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(where + e.getMessage(), e);
            }
        }
    }
}
