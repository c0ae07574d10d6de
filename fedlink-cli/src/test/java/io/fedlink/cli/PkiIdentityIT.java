package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.pki.KeyType;
import io.fedlink.api.PemCodec;
import io.fedlink.pki.internal.Keys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Identity belongs to the CA, tried as a hostile party would: the real {@code fedlink pki serve} (the packaged jar,
 * a process) over TLS, CSRs made by {@code openssl req}, requests sent by {@code curl} with the party's one-time
 * token or its current certificate. Every CSR asking for a name or role that is not the party's own is refused
 * (403, the message naming what it asked and what the party may have) and adds nothing to {@code index.tsv}; the
 * key policy holds for every curve and size openssl makes.
 */
class PkiIdentityIT {
    @TempDir
    Path dir;
    Path ca;
    String url;
    ProxyProcess serve;

    @BeforeEach
    void serve() throws Exception {
        ca = dir.resolve("ca");
        ok(Cli.run("pki", "ca", "create", "--ca-dir", ca.toString(), "--permit-dns", "fate.org", "--permit-ip",
                "127.0.0.0/8"));
        int port = ProxyProcess.freePort();
        url = "https://127.0.0.1:" + port;
        serve = ProxyProcess.start(ProxyProcess.fullJar(), "pki", "serve", "--ca-dir", ca.toString(), "--domain",
                "fate.org", "--listen", "127.0.0.1:" + port, "--ip", "127.0.0.1", "--max-lifetime", "1h");
        serve.awaitLog("==> Serving enrollment");
    }

    @AfterEach
    void stop() throws Exception {
        serve.close();
    }

    private static Cli ok(Cli r) {
        assertEquals(0, r.code(), r.out() + r.err());
        return r;
    }

    /** Runs a tool in the test folder: exit code and merged output. */
    private Cli tool(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + String.join(" ", cmd));
        return new Cli(p.exitValue(), out, "");
    }

    private String token(String party) {
        return ok(Cli.run("pki", "token", "create", "--ca-dir", ca.toString(), "--party", party)).out().strip();
    }

    /** {@code openssl req}: a new key ({@code -newkey} argument and options) and a CSR for {@code subj}. */
    private Path csr(String name, String subj, List<String> newKey, String... addext) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl", "req", "-new", "-nodes", "-keyout", name + "-key.pem",
                "-out", name + ".csr", "-subj", subj));
        cmd.addAll(newKey);
        for (String e : addext) {
            cmd.addAll(List.of("-addext", e));
        }
        Cli r = tool(cmd.toArray(String[]::new));
        assertEquals(0, r.code(), r.out());
        return dir.resolve(name + ".csr");
    }

    private Path ecCsr(String name, String subj, String... addext) throws Exception {
        return csr(name, subj, List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"), addext);
    }

    /** POSTs a CSR with curl: enrollment with {@code token}, or renewal with the certificate files {@code stem}. */
    private Cli post(Path csr, String token, String stem) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "60", "--cacert",
                ca.resolve("ca.pem").toString(), "-H", "Content-Type: application/pkcs10", "--data-binary",
                "@" + csr, "-w", "\nHTTP %{http_code}"));
        if (token != null) {
            cmd.addAll(List.of("-H", "Authorization: Bearer " + token, url + "/v1/enroll"));
        } else {
            cmd.addAll(List.of("--cert", stem + ".pem", "--key", stem + "-key.pem", url + "/v1/renew"));
        }
        return tool(cmd.toArray(String[]::new));
    }

    /** A refused request: 403 naming {@code expected}, nothing added to the index, the tokens file unchanged. */
    private void refused(String expected, Path csr, String token, String stem) throws Exception {
        String index = Files.readString(ca.resolve("index.tsv"));
        String tokens = Files.readString(ca.resolve("enrollment-tokens.tsv"));
        Cli r = post(csr, token, stem);
        assertTrue(r.out().endsWith("HTTP 403"), r.out());
        assertTrue(r.out().contains(expected), r.out());
        assertEquals(index, Files.readString(ca.resolve("index.tsv")), "nothing added to index.tsv");
        assertEquals(tokens, Files.readString(ca.resolve("enrollment-tokens.tsv")), "the token stays unused");
    }

    /** An issued request: 200; the certificate is saved as {@code stem}.pem beside the CSR's key. */
    private X509Certificate issued(Path csr, String token, String presented, String stem) throws Exception {
        Cli r = post(csr, token, presented);
        assertTrue(r.out().endsWith("HTTP 200"), r.out());
        X509Certificate leaf = PemCodec.readCertificates(r.out()).get(0);
        Files.writeString(dir.resolve(stem + ".pem"), PemCodec.certificates(List.of(leaf)));
        Files.copy(dir.resolve(csr.getFileName().toString().replace(".csr", "-key.pem")),
                dir.resolve(stem + "-key.pem"));
        return leaf;
    }

    @Test
    void aPartyGetsOnlyItsOwnIdentityWhateverItsCsrAsks() throws Exception {
        String t = token("10000");
        String own = "subjectAltName=DNS:10000.fate.org";
        String may = "party 10000 may have only CN=10000.fate.org and DNS:10000.fate.org";
        refused(may, ecCsr("root", "/CN=root", own), t, null);
        refused("'CN=9999.fate.org'", ecCsr("other", "/CN=9999.fate.org", own), t, null);
        refused("'CN=operator'", ecCsr("cn-operator", "/CN=operator"), t, null);
        refused("O=anything", ecCsr("org", "/O=anything/CN=10000.fate.org", own), t, null);
        refused("DNS:x.10000.fate.org", ecCsr("extra", "/CN=10000.fate.org",
                "subjectAltName=DNS:10000.fate.org,DNS:x.10000.fate.org"), t, null);
        refused("DNS:9999.fate.org", ecCsr("theirs", "/", "subjectAltName=DNS:9999.fate.org"), t, null);
        refused("IP:127.0.0.1", ecCsr("ip", "/", own + ",IP:127.0.0.1"), t, null);

        // asking for another role in the CSR (a CA, client-only) changes nothing: the CA issues the party profile
        X509Certificate mine = issued(ecCsr("mine", "/", "basicConstraints=critical,CA:TRUE",
                "extendedKeyUsage=clientAuth"), t, null, "party");
        assertEquals("CN=10000.fate.org", mine.getSubjectX500Principal().getName());
        assertEquals(-1, mine.getBasicConstraints());
        assertEquals(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"), mine.getExtendedKeyUsage());
        assertEquals(List.of(List.of(2, "10000.fate.org")), mine.getSubjectAlternativeNames().stream()
                .map(l -> List.<Object>copyOf(l)).toList());

        // renewal with the party's own certificate: the same rules
        refused(may, ecCsr("r-root", "/CN=root", own), null, "party");
        refused("'CN=9999.fate.org'", ecCsr("r-other", "/CN=9999.fate.org"), null, "party");
        refused("DNS:9999.fate.org", ecCsr("r-theirs", "/", own + ",DNS:9999.fate.org"), null, "party");
        assertEquals("CN=10000.fate.org", issued(ecCsr("r-ok", "/CN=10000.fate.org", own), null, "party", "renewed")
                .getSubjectX500Principal().getName());

        // an operator's client certificates never renew into party certificates
        ok(Cli.run("pki", "cert", "create", "--ca-dir", ca.toString(), "--role", "client", "--name", "operator",
                "--out", dir.toString()));
        refused("is not a party certificate", ecCsr("op-renew", "/"), null, "operator");
        ok(Cli.run("pki", "cert", "create", "--ca-dir", ca.toString(), "--role", "client", "--name",
                "10000.fate.org", "--san", "10000.fate.org", "--file", "lookalike", "--out", dir.toString()));
        refused("is not a party certificate", ecCsr("look-renew", "/"), null, "lookalike");
        assertEquals(0, serve.count("Exception"), String.join("\n", serve.log));
    }

    @Test
    void keyPolicyOverEveryCurveAndSizeOpensslMakes() throws Exception {
        String t = token("20000");
        String curves = tool("openssl", "ecparam", "-list_curves").out();
        int refusedCurves = 0;
        for (String curve : List.of("secp112r1", "secp160r1", "secp192k1", "secp224r1", "secp256k1", "prime239v1",
                "brainpoolP256r1", "brainpoolP384r1", "sect283k1")) {
            if (!curves.contains(" " + curve + " ") && !curves.contains(" " + curve + ":")) {
                System.out.println("openssl lacks " + curve + ": skipped");
                continue;
            }
            refused("EC " + curve + ": this CA accepts " + KeyType.ACCEPTED, csr(curve, "/", List.of("-newkey",
                    "ec", "-pkeyopt", "ec_paramgen_curve:" + curve)), t, null);
            refusedCurves++;
        }
        assertTrue(refusedCurves >= 5, "openssl 3 offers most of these curves: " + refusedCurves);
        refused("RSA 1024", csr("rsa1024", "/", List.of("-newkey", "rsa:1024")), t, null);
        refused("Ed448", csr("ed448", "/", List.of("-newkey", "ed448")), t, null);

        int party = 20001;
        for (String[] ok : new String[][] {{"p256", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "EC P-256"},
                {"p384", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "EC P-384"},
                {"p521", "ec", "-pkeyopt", "ec_paramgen_curve:P-521", "EC P-521"}, {"ed25519", "ed25519", "Ed25519"},
                {"rsa2048", "rsa:2048", "RSA 2048"}, {"rsa3072", "rsa:3072", "RSA 3072"}}) {
            List<String> newKey = new ArrayList<>(List.of("-newkey"));
            newKey.addAll(List.of(ok).subList(1, ok.length - 1));
            X509Certificate c = issued(csr(ok[0], "/", newKey), token(Integer.toString(party)), null,
                    "party-" + ok[0]);
            String expected = ok[ok.length - 1];
            assertEquals("CN=" + party++ + ".fate.org", c.getSubjectX500Principal().getName());
            assertEquals(expected, Keys.describe(c.getPublicKey()), "recorded as what it is");
            serve.awaitLog("key " + expected + ",");
        }
    }
}
