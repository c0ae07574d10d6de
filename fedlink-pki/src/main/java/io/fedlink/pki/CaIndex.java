package io.fedlink.pki;

import io.fedlink.pki.CertificateAuthority.IndexEntry;
import io.fedlink.pki.internal.Parsing;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a CA issued: serial, expiry, revocation, subject, the party it was issued to and its profile, oldest first,
 * and the last CRL number. Its text form is the CA folder's {@code index.tsv}, one line per record:
 * {@code serial not_after revoked_at reason subject party profile}, tab-separated.
 *
 * <p>The file grows by appending whole lines ({@link #sync}): a revocation is a later line for the same serial (a
 * revocation is never undone; the earliest effective one wins), the CRL number a {@code # crl_number} line (the
 * highest wins). A crash mid-append leaves at most a final line without its newline: the reader ignores it (it
 * recorded nothing that was ever handed out) and the next append cuts it off first. The file is re-read only when
 * it changed (inode, size, modification time), and then only the appended part when the same file grew.
 *
 * <p>Lines written before the party column existed (5 fields) load with the party and profile unknown ({@code -}):
 * the subject text was the requester's choice then, so no party is derived from it; see
 * {@link EnrollmentAuthority} for how such a certificate renews. Lookups by serial and by party are hash lookups.
 * Not thread-safe: the CA guards it.
 */
final class CaIndex {
    private static final String HEADER = "# serial\tnot_after\trevoked_at\treason\tsubject\tparty\tprofile";
    private static final String CRL_NUMBER = "# crl_number\t";
    private static final String NONE = "-";
    private static final Logger LOG = LoggerFactory.getLogger(CaIndex.class);

    private final Map<BigInteger, IndexEntry> entries = new LinkedHashMap<>();
    private final Map<String, List<BigInteger>> byParty = new HashMap<>();
    private final List<String> pending = new ArrayList<>(); // lines recorded in memory, not yet in the file
    private long crlNumber;
    private boolean crlNumberPending;
    // what of the file was read: its identity, the offset up to which whole lines were read, size and time then
    private Object fileKey;
    private long readUpTo;
    private long sizeSeen = -1;
    private FileTime timeSeen;
    private String ignoredTail;

    /** The key parties are looked up by: party ids are case-insensitive. */
    static String partyKey(String party) {
        return party.strip().toLowerCase(Locale.ROOT);
    }

    /** Records an issued certificate: {@code subject} is what the index shows, {@code party} may be null. */
    void add(X509Certificate cert, String subject, String party, String profile) {
        put(new IndexEntry(cert.getSerialNumber(), subject, cert.getNotAfter().toInstant(), null, null, party,
                profile), true);
    }

    /**
     * Revokes an issued certificate effective at {@code at} (a future time: a superseded certificate's overlap).
     * An earlier revocation is kept; a later-effective one is replaced (an operator's revocation ends an overlap).
     *
     * @throws IllegalArgumentException if {@code serial} is not in the index
     */
    void revoke(BigInteger serial, RevocationReason reason, Instant at) {
        IndexEntry e = get(serial);
        if (e == null) {
            throw new IllegalArgumentException("serial " + serial.toString(16) + " was not issued by this CA");
        }
        if (e.revokedAt() == null || e.revokedAt().isAfter(at)) {
            put(new IndexEntry(serial, e.subject(), e.notAfter(), at, Objects.requireNonNull(reason, "reason"),
                    e.party(), e.profile()), true);
        }
    }

    /** Revokes now; see {@link #revoke(BigInteger, RevocationReason, Instant)}. */
    void revoke(BigInteger serial, RevocationReason reason) {
        revoke(serial, reason, Instant.now());
    }

    /** The entry of {@code serial}, or {@code null}. */
    IndexEntry get(BigInteger serial) {
        return entries.get(serial);
    }

    /** The entries recorded for {@code party} (any case), oldest first. */
    List<IndexEntry> ofParty(String party) {
        List<BigInteger> serials = byParty.get(partyKey(party));
        return serials == null ? List.of() : serials.stream().map(entries::get).toList();
    }

    /** The entries, oldest first. */
    List<IndexEntry> entries() {
        return List.copyOf(entries.values());
    }

    /** How many certificates are recorded. */
    int size() {
        return entries.size();
    }

    /** Advances and returns the CRL number. */
    long nextCrlNumber() {
        crlNumberPending = true;
        return ++crlNumber;
    }

    private void put(IndexEntry e, boolean record) {
        IndexEntry known = entries.get(e.serial());
        IndexEntry merged = known == null ? e : merge(known, e);
        entries.put(e.serial(), merged);
        if (merged.party() != null && (known == null || known.party() == null)) {
            byParty.computeIfAbsent(partyKey(merged.party()), k -> new ArrayList<>()).add(e.serial());
        }
        if (record) {
            pending.add(line(merged));
        }
    }

    /** Two records of one serial: the earliest effective revocation, and whatever party and profile is known. */
    private static IndexEntry merge(IndexEntry a, IndexEntry b) {
        IndexEntry rev = a.revokedAt() == null || (b.revokedAt() != null && b.revokedAt().isBefore(a.revokedAt()))
                ? b : a;
        return new IndexEntry(a.serial(), a.subject(), a.notAfter(), rev.revokedAt(), rev.reason(),
                a.party() != null ? a.party() : b.party(), a.profile() != null ? a.profile() : b.profile());
    }

    private static String line(IndexEntry e) {
        return e.serial().toString(16) + '\t' + e.notAfter() + '\t'
                + (e.revokedAt() != null ? e.revokedAt().toString() : NONE) + '\t'
                + (e.reason() != null ? e.reason().name().toLowerCase(Locale.ROOT) : NONE) + '\t'
                + e.subject().replace('\t', ' ').replace('\n', ' ') + '\t' + field(e.party()) + '\t'
                + field(e.profile()) + '\n';
    }

    private static String field(String s) {
        return s == null || s.isBlank() ? NONE : s.replace('\t', ' ').replace('\n', ' ');
    }

    /** The whole {@code index.tsv} text (a new file: everything in it, nothing left pending). */
    String text() {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        sb.append(CRL_NUMBER).append(crlNumber).append('\n');
        entries.values().forEach(e -> sb.append(line(e)));
        return sb.toString();
    }

    /** Marks everything as written: {@link #text()} was just saved as the whole file. */
    void written(Path file) throws IOException {
        pending.clear();
        crlNumberPending = false;
        remember(file, Files.size(file));
    }

    /**
     * Reads what changed in {@code file} since the last read (nothing when its inode, size and modification time are
     * the same; the appended part when it grew; the whole file, merged, otherwise). A damaged line fails naming the
     * file and line; a final line without its newline is ignored (see the class comment).
     */
    void read(Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        Object key = a.fileKey();
        boolean same = key != null && key.equals(fileKey) && a.size() >= readUpTo;
        if (same && a.size() == sizeSeen && a.lastModifiedTime().equals(timeSeen)) {
            return;
        }
        long from = same && a.size() > sizeSeen ? readUpTo : 0;
        byte[] bytes;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(size - from));
            while (buf.hasRemaining() && ch.read(buf, from + buf.position()) >= 0) {
                // reads the rest
            }
            bytes = buf.array();
        }
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] != '\n') {
            end--;
        }
        String text = new String(bytes, 0, end, StandardCharsets.US_ASCII);
        String tail = end < bytes.length ? new String(bytes, end, bytes.length - end, StandardCharsets.US_ASCII)
                : null;
        if (tail != null && !tail.equals(ignoredTail)) {
            LOG.info("{}: ignoring a final line without its newline ({} bytes, a write cut short by a crash; it "
                    + "recorded nothing handed out): the next record written here replaces it", file, tail.length());
        }
        ignoredTail = tail;
        parse(file, text, from == 0 ? 0 : -1);
        fileKey = key;
        readUpTo = from + end;
        sizeSeen = from + bytes.length;
        timeSeen = a.lastModifiedTime();
    }

    /**
     * The final partial line ignored at the last read (a crash mid-append), or {@code null}: a caller may say so.
     */
    String ignoredTail() {
        return ignoredTail;
    }

    /**
     * Brings {@code file} and this index together under the CA folder's lock: reads what others appended, then
     * appends this index's unwritten records as whole lines (cutting off a partial final line first) and syncs them
     * to disk. A missing file is written whole.
     */
    void sync(Path file) throws IOException {
        if (!Files.exists(file)) {
            new io.fedlink.api.FileSet().add(file, text(), false).commit(io.fedlink.api.FileSet.NOTHING);
            written(file);
            return;
        }
        read(file);
        if (pending.isEmpty() && !crlNumberPending) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        pending.forEach(sb::append);
        if (crlNumberPending) {
            sb.append(CRL_NUMBER).append(crlNumber).append('\n');
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            if (ch.size() > readUpTo) {
                ch.truncate(readUpTo); // a partial line of a crashed append: never glued to ours
            }
            byte[] bytes = sb.toString().getBytes(StandardCharsets.US_ASCII);
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            long at = readUpTo;
            while (buf.hasRemaining()) {
                at += ch.write(buf, at);
            }
            ch.force(true);
        }
        pending.clear();
        crlNumberPending = false;
        ignoredTail = null;
        remember(file, Files.size(file));
    }

    private void remember(Path file, long size) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        fileKey = a.fileKey();
        readUpTo = size;
        sizeSeen = size;
        timeSeen = a.lastModifiedTime();
    }

    private void parse(Path file, String text, int firstLine) {
        int lineNo = firstLine < 0 ? 0 : firstLine;
        int start = 0;
        while (start < text.length()) {
            int nl = text.indexOf('\n', start);
            String line = text.substring(start, nl);
            start = nl + 1;
            lineNo++;
            String where = file + (firstLine < 0 ? " (appended part), line " : ":") + lineNo + ": ";
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
            if (f.length != 5 && f.length != 7) {
                throw new IllegalArgumentException(where + "expected 7 (or, written before party ids were "
                        + "recorded, 5) tab-separated fields, found " + f.length + ": fix or remove the line");
            }
            try {
                BigInteger serial = new BigInteger(f[0], 16);
                Instant revokedAt = f[2].equals(NONE) ? null : Instant.parse(f[2]);
                RevocationReason reason = f[3].equals(NONE) ? null : Parsing.revocationReason(f[3]);
                if ((revokedAt == null) != (reason == null)) {
                    throw new IllegalArgumentException("revoked_at and reason must both be set or both be '-'");
                }
                String party = f.length == 7 && !f[5].equals(NONE) ? f[5] : null;
                String profile = f.length == 7 && !f[6].equals(NONE) ? f[6] : null;
                put(new IndexEntry(serial, f[4], Instant.parse(f[1]), revokedAt, reason, party, profile), false);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(where + e.getMessage(), e);
            }
        }
    }
}
