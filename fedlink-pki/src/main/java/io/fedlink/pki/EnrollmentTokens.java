package io.fedlink.pki;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * The one-time enrollment tokens of a CA folder ({@code enrollment-tokens.tsv}, mode 0600): for each token only its
 * SHA-256, the party it is bound to, its expiry and when it was used. A token is 32 random bytes (base64url, prefixed
 * {@code fl1.}); it is shown once, when created, and never stored in clear. Not thread-safe: the CA side guards it.
 */
final class EnrollmentTokens {
    static final String FILE = "enrollment-tokens.tsv";
    private static final String PREFIX = "fl1.";
    private static final String HEADER = "# sha256\tparty\texpires_at\tused_at\n";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One token's record. */
    record Entry(String hash, String party, Instant expiresAt, Instant usedAt) {}

    private final List<Entry> entries = new ArrayList<>();

    private EnrollmentTokens() {}

    /** Reads the tokens of {@code caDir}; none when the file is missing. */
    static EnrollmentTokens read(Path caDir) throws IOException {
        EnrollmentTokens t = new EnrollmentTokens();
        Path f = caDir.resolve(FILE);
        if (!Files.exists(f)) {
            return t;
        }
        List<String> lines = Files.readAllLines(f, StandardCharsets.US_ASCII);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] p = line.split("\t", -1);
            try {
                t.entries.add(new Entry(p[0], p[1], Instant.parse(p[2]), p[3].equals("-") ? null : Instant.parse(p[3])));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(f + ":" + (i + 1) + ": damaged token line (" + e.getMessage()
                        + "): fix or remove the line");
            }
        }
        return t;
    }

    /** A new token for {@code party}, valid until {@code expiresAt}; returns the token text (shown once). */
    String create(String party, Instant expiresAt) {
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        String token = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        entries.add(new Entry(hash(token), party, expiresAt, null));
        return token;
    }

    /** The record of {@code token}, or {@code null} when it is not one of these. */
    Entry find(String token) {
        String h = hash(token.strip());
        return entries.stream().filter(e -> MessageDigest.isEqual(e.hash().getBytes(StandardCharsets.US_ASCII),
                h.getBytes(StandardCharsets.US_ASCII))).findFirst().orElse(null);
    }

    /** Marks {@code entry} used at {@code when}. */
    void markUsed(Entry entry, Instant when) {
        entries.set(entries.indexOf(entry), new Entry(entry.hash(), entry.party(), entry.expiresAt(), when));
    }

    /**
     * Ends every unused, unexpired token of {@code party} (any case) at {@code when}: a removed party's tokens die
     * with it; a token the operator creates afterwards works. Returns how many.
     */
    int expireUnused(String party, Instant when) {
        int n = 0;
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            if (e.usedAt() == null && e.expiresAt().isAfter(when)
                    && CaIndex.partyKey(e.party()).equals(CaIndex.partyKey(party))) {
                entries.set(i, new Entry(e.hash(), e.party(), when, null));
                n++;
            }
        }
        return n;
    }

    /** The file's text. */
    String text() {
        StringBuilder sb = new StringBuilder(HEADER);
        for (Entry e : entries) {
            sb.append(e.hash()).append('\t').append(e.party()).append('\t').append(e.expiresAt()).append('\t')
                    .append(e.usedAt() == null ? "-" : e.usedAt().toString()).append('\n');
        }
        return sb.toString();
    }

    private static String hash(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
