package io.fedlink.benchmarks;

import io.fedlink.pki.CaFolder;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.EnrollmentAuthority;
import io.fedlink.pki.IssuedCertificate;
import io.fedlink.pki.KeyType;
import io.fedlink.pki.internal.Keys;
import java.io.BufferedWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Renewal latency as the CA's history grows: for each index size, a CA folder whose {@code index.tsv} holds that many
 * lines (about 1,000 parties, a year of 1-day certificates at 400,000), then timed {@link EnrollmentAuthority#renew}
 * calls (keys and CSRs made beforehand), each from a party's newest certificate, 5 per party (below the default
 * rate limit). Prints p50, p99 and max per size.
 *
 * <pre>{@code java -Xmx2g -cp benchmarks/target/benchmarks.jar io.fedlink.benchmarks.IndexScale 1000:200 400000:100}</pre>
 * (each argument {@code LINES:RENEWALS}).
 */
public final class IndexScale {
    private IndexScale() {}

    /** Runs the sizes given as {@code LINES:RENEWALS}. */
    public static void main(String[] args) throws Exception {
        List<String> sizes = args.length > 0 ? Arrays.asList(args) : List.of("1000:200", "400000:100");
        for (String s : sizes) {
            String[] p = s.split(":");
            run(Integer.parseInt(p[0]), Integer.parseInt(p[1]));
        }
    }

    private static void run(int lines, int renewals) throws Exception {
        Path dir = Files.createTempDirectory("fedlink-index-scale");
        CaFolder.of(dir, null).create(CertificateAuthority.builder().commonName("bench CA").permitDns("fate.org")
                .create());
        Path index = dir.resolve("index.tsv");
        boolean withParty = Files.readString(index).lines().findFirst().orElse("").contains("party");
        SecureRandom random = new SecureRandom();
        Instant start = Instant.now().minus(Duration.ofDays(365));
        try (BufferedWriter w = Files.newBufferedWriter(index, StandardCharsets.US_ASCII, StandardOpenOption.APPEND)) {
            for (int i = 0; i < lines; i++) {
                String party = "p" + (i % 1000);
                w.write(new BigInteger(119, random).toString(16) + "\t" + start.plus(Duration.ofSeconds(
                        (long) i * 365 * 86400 / Math.max(lines, 1))).plus(Duration.ofDays(1)) + "\t-\t-\tCN=" + party
                        + ".fate.org" + (withParty ? "\t" + party + "\tpeer" : "") + "\n");
            }
        }
        EnrollmentAuthority authority = EnrollmentAuthority.forFolder(dir, null, "fate.org", null);
        int parties = (renewals + 4) / 5;
        List<IssuedCertificate> current = new ArrayList<>();
        for (int i = 0; i < parties; i++) {
            String party = "b" + i;
            String token = CaFolder.of(dir, null).createToken(party, Duration.ofHours(1));
            current.add(authority.enroll(token, Keys.csr(KeyType.EC_P256.generate(), party + ".fate.org"),
                    null));
        }
        List<String> csrs = new ArrayList<>();
        for (int i = 0; i < renewals; i++) {
            csrs.add(Keys.csr(KeyType.EC_P256.generate(), "b" + (i % parties) + ".fate.org"));
        }
        long[] nanos = new long[renewals];
        for (int i = 0; i < renewals; i++) {
            int party = i % parties;
            long t0 = System.nanoTime();
            current.set(party, authority.renew(current.get(party).chain(), csrs.get(i), null));
            nanos[i] = System.nanoTime() - t0;
        }
        Arrays.sort(nanos);
        System.out.printf("index %,d lines, %d renewals: p50 %.1f ms, p99 %.1f ms, max %.1f ms%n", lines, renewals,
                nanos[renewals / 2] / 1e6, nanos[Math.min(renewals - 1, (int) Math.ceil(renewals * 0.99) - 1)] / 1e6,
                nanos[renewals - 1] / 1e6);
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
