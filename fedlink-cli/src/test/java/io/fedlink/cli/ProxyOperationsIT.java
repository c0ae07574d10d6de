package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedlink.api.BoundedHttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operating the packaged {@code fedlink proxy} as a process: SIGHUP, the admin endpoint and
 * {@code proxy close-tunnels}.
 */
class ProxyOperationsIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        closing.add(c);
        return c;
    }

    /** A client whose tunnel to an echo target is established: its ClientHello came back. */
    private Socket tunnel(int proxyPort, String name) throws Exception {
        Socket s = closeLater(new Socket(InetAddress.getLoopbackAddress(), proxyPort));
        s.setSoTimeout(20_000);
        byte[] hello = ProxyProcess.hello(name);
        s.getOutputStream().write(hello);
        assertArrayEquals(hello, s.getInputStream().readNBytes(hello.length), "echoed through the tunnel");
        return s;
    }

    /** Reads until the connection ends (EOF or reset), failing on a read timeout. */
    private static void assertEnded(Socket s) {
        try {
            assertEquals(-1, s.getInputStream().read(), "the tunnel should have ended");
        } catch (SocketTimeoutException e) {
            fail("the tunnel did not end within the read timeout");
        } catch (IOException e) {
            // reset: ended too
        }
    }

    private static void assertAlive(Socket s) throws IOException {
        s.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
        assertEquals("ping", new String(s.getInputStream().readNBytes(4), StandardCharsets.US_ASCII));
    }

    /** POST /tunnels/close?QUERY over TCP or the admin socket, with more header lines ("Name: value"). */
    private static BoundedHttpServer.Answer admin(SocketAddress at, String method, String query, String... headers)
            throws IOException {
        StringBuilder r = new StringBuilder(method + " /tunnels/close" + (query == null ? "" : "?" + query)
                + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n");
        for (String h : headers) {
            r.append(h).append("\r\n");
        }
        return BoundedHttpServer.exchange(at, r.append("\r\n").toString(), Duration.ofSeconds(30), 1 << 16);
    }

    /** A token file with mode 0600. */
    private Path tokenFile(String token) throws IOException {
        Path f = dir.resolve("admin.token");
        Files.writeString(f, token + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    private static boolean root() throws Exception {
        Process id = new ProcessBuilder("id", "-u").start();
        return new String(id.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip().equals("0");
    }

    /** A client that sends the start of a request and then nothing: held open until the server cuts it. */
    private Socket stalled(int port, String partialRequest) throws IOException {
        Socket s = closeLater(new Socket(InetAddress.getLoopbackAddress(), port));
        s.setSoTimeout(30_000);
        s.getOutputStream().write(partialRequest.getBytes(StandardCharsets.US_ASCII));
        return s;
    }

    @Test
    void stalledHttpClientsDelayNeitherMetricsNorTheAdminEndpointAndAreCut() throws Exception {
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni:\n- fqdn: 10000.fate.org\n"
                + "  tunnel_route: 127.0.0.1:1\n");
        int port = ProxyProcess.freePort();
        int metrics = ProxyProcess.freePort();
        int admin = ProxyProcess.freePort();
        ProxyProcess proxy = closeLater(ProxyProcess.start("proxy", "--listen", "127.0.0.1:" + port, "--routes",
                routes.toString(), "--metrics", String.valueOf(metrics), "--admin-tcp", String.valueOf(admin),
                "--admin-token-file", tokenFile("s3cret-token").toString(), "--admin-socket",
                dir.resolve("run/admin.sock").toString()));
        proxy.awaitLog("fedlink proxy listening on /127.0.0.1:" + port);
        List<Socket> stalled = new ArrayList<>();
        for (int i = 0; i < 2; i++) { // one JDK server thread each used to be held by the first of these for ever
            stalled.add(stalled(metrics, "GET /readyz HTTP/1.1\r\nHost: 127"));
            stalled.add(stalled(admin, "POST /tunnels/close?all=true HTTP/1.1\r\nHost: 127"));
        }
        HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + metrics + "/readyz")).timeout(Duration.ofSeconds(8)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ready.statusCode(), ready.body());
        HttpResponse<String> closed = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + admin + "/tunnels/close?all=true")).timeout(Duration.ofSeconds(8))
                .header("Authorization", "Bearer s3cret-token")
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, closed.statusCode(), closed.body());
        for (Socket s : stalled) { // cut after the request time limit (10 s), well inside the 30 s read timeout
            String cut = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(cut.startsWith("HTTP/1.1 408 "), cut);
        }
        assertTrue(proxy.process.isAlive());
    }

    @Test
    void adminEndpointAndCloseTunnelsCommandCloseOneNamesTunnels() throws Exception {
        ProxyProcess.EchoTarget a = closeLater(new ProxyProcess.EchoTarget());
        ProxyProcess.EchoTarget b = closeLater(new ProxyProcess.EchoTarget());
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni:\n"
                + "- fqdn: 10000.fate.org\n  tunnel_route: 127.0.0.1:" + a.port() + "\n"
                + "- fqdn: '*.fate.org'\n  tunnel_route: 127.0.0.1:" + b.port() + "\n");
        int port = ProxyProcess.freePort();
        Path socket = dir.resolve("run").resolve("admin.sock");
        SocketAddress admin = UnixDomainSocketAddress.of(socket);
        ProxyProcess proxy = closeLater(ProxyProcess.start("proxy", "--listen", "127.0.0.1:" + port, "--routes",
                routes.toString(), "--admin", "--admin-socket", socket.toString()));
        proxy.awaitLog("fedlink proxy admin on " + socket + " (POST /tunnels/close)");
        proxy.awaitLog("fedlink proxy listening on /127.0.0.1:" + port);

        Socket a1 = tunnel(port, "10000.fate.org");
        Socket a2 = tunnel(port, "10000.fate.org");
        Socket b1 = tunnel(port, "9999.fate.org");

        Cli closed = ProxyProcess.run("proxy", "close-tunnels", "--admin-socket", socket.toString(), "--server-name",
                "10000.FATE.org.");
        assertEquals(0, closed.code(), closed.out());
        assertTrue(closed.out().contains("closed 2 tunnels (server-name=10000.fate.org)"), closed.out());
        assertEnded(a1);
        assertEnded(a2);
        assertAlive(b1);
        proxy.awaitLog("closed 2 tunnels on /127.0.0.1:" + port + " on request (reason ROTATED)");
        proxy.awaitLog(l -> l.contains(" access - ") && l.contains("reason=ROTATED"), "an access line");

        // The endpoint refuses what a browser could be made to send, and bad selectors, naming the problem.
        BoundedHttpServer.Answer get = admin(admin, "GET", "all=true");
        assertEquals(405, get.status());
        assertTrue(get.raw().contains("\r\nAllow: POST\r\n"), get.raw());
        assertEquals(403, admin(admin, "POST", "all=true", "Origin: http://evil.example").status());
        BoundedHttpServer.Answer none = admin(admin, "POST", null);
        assertEquals(400, none.status());
        assertTrue(JSON.readTree(none.body()).get("error").asText().contains("give exactly one of"), none.body());
        BoundedHttpServer.Answer bad = admin(admin, "POST", "server-name=bad_name");
        assertEquals(400, bad.status());
        assertTrue(bad.body().contains("bad_name"), bad.body());
        assertEquals(400, admin(admin, "POST", "all=true&route=x.fate.org").status());
        assertEquals(400, admin(admin, "POST", "all=yes").status());
        assertEquals(404, BoundedHttpServer.exchange(admin, "POST /tunnels HTTP/1.1\r\nHost: localhost\r\n\r\n",
                Duration.ofSeconds(30), 1 << 16).status());
        assertAlive(b1);

        // By route entry: the wildcard serving 9999.fate.org.
        Socket b2 = tunnel(port, "8888.fate.org");
        BoundedHttpServer.Answer byRoute = admin(admin, "POST", "route=" + "*.FATE.org".replace("*", "%2A"));
        assertEquals(200, byRoute.status(), byRoute.body());
        JsonNode answer = JSON.readTree(byRoute.body());
        assertEquals(2, answer.get("closed").asInt(), byRoute.body());
        assertEquals("route=*.fate.org", answer.get("selector").asText());
        assertEnded(b1);
        assertEnded(b2);

        Socket a3 = tunnel(port, "10000.fate.org");
        Cli all = ProxyProcess.run("proxy", "close-tunnels", "--admin-socket", socket.toString(), "--all");
        assertEquals(0, all.code(), all.out());
        assertTrue(all.out().contains("closed 1 tunnel (all)"), all.out());
        assertEnded(a3);
        assertEquals(1, proxy.count("admin: closed 1 tunnels (all)"), proxy.log.toString());
    }

    @Test
    void sighupReadsTheRouteFileAtOnceAndKeepsTheTableWhenItIsInvalid() throws Exception {
        ProxyProcess.TagTarget a = closeLater(new ProxyProcess.TagTarget("A"));
        ProxyProcess.TagTarget b = closeLater(new ProxyProcess.TagTarget("B"));
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni:\n- fqdn: 10000.fate.org\n"
                + "  tunnel_route: 127.0.0.1:" + a.port() + "\n");
        int port = ProxyProcess.freePort();
        ProxyProcess proxy = closeLater(ProxyProcess.startWithHangup("default", "proxy", "--listen",
                "127.0.0.1:" + port, "--routes", routes.toString(),
                "--reload-interval", "1h")); // only SIGHUP can load a change in this test
        proxy.awaitLog("fedlink proxy listening on /127.0.0.1:" + port);
        assertEquals("A", ProxyProcess.ask(port, "10000.fate.org"));

        ProxyProcess.replace(routes, "sni:\n- fqdn: 10000.fate.org\n  tunnel_route: 127.0.0.1:" + b.port() + "\n"
                + "- fqdn: 9999.fate.org\n  tunnel_route: 127.0.0.1:" + a.port() + "\n");
        proxy.hangup();
        proxy.awaitLog("reloaded " + routes + " on request: 2 routes");
        assertEquals("B", ProxyProcess.ask(port, "10000.fate.org"));
        assertEquals("A", ProxyProcess.ask(port, "9999.fate.org"));

        ProxyProcess.replace(routes, "sni:\n- fqdn: bad_name\n  tunnel_route: 127.0.0.1:" + a.port() + "\n");
        proxy.hangup();
        proxy.awaitLog("refused to reload " + routes + " on request; keeping the previous 2 routes");
        assertTrue(proxy.process.isAlive(), "SIGHUP is handled, not the JVM's default (exit)");
        assertEquals("B", ProxyProcess.ask(port, "10000.fate.org"), "the old table stays in force");
        assertEquals(1, proxy.count("refused to reload"), proxy.log.toString());
        assertTrue(proxy.log.stream().anyMatch(l -> l.contains("refused to reload") && l.contains("'bad_name'")),
                proxy.log.toString());

        ProxyProcess.replace(routes, "sni:\n- fqdn: 10000.fate.org\n  tunnel_route: 127.0.0.1:" + a.port() + "\n");
        proxy.hangup();
        proxy.awaitLog("reloaded " + routes + " on request: 1 routes");
        assertEquals("A", ProxyProcess.ask(port, "10000.fate.org"));
    }

    @Test
    void sighupInheritedAsIgnoredIsReportedAtStart() throws Exception {
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni:\n- fqdn: 10000.fate.org\n"
                + "  tunnel_route: 127.0.0.1:1\n");
        int port = ProxyProcess.freePort();
        ProxyProcess proxy = closeLater(ProxyProcess.startWithHangup("ignored", "proxy", "--listen",
                "127.0.0.1:" + port, "--routes", routes.toString()));
        proxy.awaitLog("fedlink proxy listening on /127.0.0.1:" + port);
        assertEquals(1, proxy.count("SIGHUP is ignored in this process"), proxy.log.toString());
    }

    @Test
    void jsonAccessLogOnStandardOutputAndNothingElseThere() throws Exception {
        ProxyProcess.EchoTarget a = closeLater(new ProxyProcess.EchoTarget());
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni:\n- fqdn: '*.fate.org'\n"
                + "  tunnel_route: 127.0.0.1:" + a.port() + "\n");
        int port = ProxyProcess.freePort();
        Path socket = dir.resolve("run").resolve("admin.sock");
        ProxyProcess proxy = closeLater(ProxyProcess.startSplit("proxy", "--listen", "127.0.0.1:" + port, "--routes",
                routes.toString(), "--access-log-format", "JSON", "--admin=" + socket));
        proxy.awaitLog("fedlink proxy listening on /127.0.0.1:" + port); // on standard error now
        Socket s = tunnel(port, "10000.fate.org");
        int clientPort = s.getLocalPort();
        s.close(); // the target sees the end and closes: the tunnel completes
        try (Socket refused = new Socket(InetAddress.getLoopbackAddress(), port)) {
            refused.setSoTimeout(20_000);
            refused.getOutputStream().write(ProxyProcess.hello("x.example.org"));
            refused.getInputStream().readAllBytes(); // an unrecognized_name alert, then the end
        }
        Socket rotated = tunnel(port, "9999.fate.org");
        assertEquals(200, admin(UnixDomainSocketAddress.of(socket), "POST", "all=true").status());
        assertEnded(rotated);

        long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (proxy.out.size() < 3) {
            assertTrue(System.nanoTime() - end < 0, "three JSON lines expected on standard output: " + proxy.out
                    + "\nstderr: " + proxy.log);
            Thread.sleep(20);
        }
        List<JsonNode> lines = new ArrayList<>();
        for (String l : proxy.out) {
            lines.add(JSON.readTree(l)); // every line of standard output is one JSON object
        }
        JsonNode completed = lines.stream().filter(n -> n.get("reason").asText().equals("completed")).findFirst()
                .orElseThrow(() -> new AssertionError(proxy.out.toString()));
        assertEquals("tunnel", completed.get("event").asText());
        assertEquals("127.0.0.1:" + clientPort, completed.get("client").asText());
        assertEquals("10000.fate.org", completed.get("server_name").asText());
        assertEquals("*.fate.org", completed.get("route").asText());
        assertEquals("127.0.0.1:" + a.port(), completed.get("target").asText());
        assertTrue(completed.get("bytes_from_client").asLong() > 0, completed.toString());
        assertEquals(completed.get("bytes_from_client").asLong(), completed.get("bytes_to_client").asLong());
        assertTrue(lines.stream().anyMatch(n -> n.get("event").asText().equals("refused")
                && n.get("server_name").asText().equals("x.example.org")
                && n.get("reason").asText().equals("unknown_server_name")), proxy.out.toString());
        assertTrue(lines.stream().anyMatch(n -> n.get("reason").asText().equals("rotated")
                && n.get("server_name").asText().equals("9999.fate.org")), proxy.out.toString());
        assertTrue(proxy.log.stream().noneMatch(l -> l.contains(" access - ")), "no text access lines");
    }

    @Test
    void closeTunnelsCommandRefusals() throws Exception {
        Path token = tokenFile("t");
        Cli none = Cli.run("proxy", "close-tunnels", "--admin-tcp", "9470", "--admin-token-file", token.toString());
        assertEquals(2, none.code(), none.err());
        assertTrue(none.err().contains("--server-name") && none.err().contains("--all"), none.err());
        Cli two = Cli.run("proxy", "close-tunnels", "--all", "--route", "x.fate.org");
        assertEquals(2, two.code(), two.err());
        int nobody = ProxyProcess.closedPort();
        Cli down = Cli.run("proxy", "close-tunnels", "--admin-tcp", String.valueOf(nobody), "--admin-token-file",
                token.toString(), "--all");
        assertEquals(1, down.code(), down.err());
        assertTrue(down.err().contains("cannot reach the admin endpoint at 127.0.0.1:" + nobody), down.err());
        Cli noSocket = Cli.run("proxy", "close-tunnels", "--admin-socket", dir.resolve("none.sock").toString(),
                "--all");
        assertEquals(1, noSocket.code(), noSocket.err());
        assertTrue(noSocket.err().contains("cannot reach the admin endpoint at " + dir.resolve("none.sock")),
                noSocket.err());
        Cli badAddress = Cli.run("proxy", "close-tunnels", "--admin-tcp", "proxy.fate.org:9470", "--admin-token-file",
                token.toString(), "--all");
        assertNotEquals(0, badAddress.code());
        assertTrue(badAddress.err().contains("--admin-tcp proxy.fate.org:9470 must be [IP:]PORT"), badAddress.err());
        Cli noToken = Cli.run("proxy", "close-tunnels", "--admin-tcp", "9470", "--all");
        assertEquals(2, noToken.code(), noToken.err());
        assertTrue(noToken.err().contains("--admin-token-file"), noToken.err());
    }

    @Test
    void adminOnANonLoopbackAddressNeedsToBeAllowed() throws Exception {
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni:\n- fqdn: 10000.fate.org\n"
                + "  tunnel_route: 127.0.0.1:1\n");
        Cli refused = Cli.run("proxy", "--listen", "127.0.0.1:" + ProxyProcess.freePort(), "--routes",
                routes.toString(), "--admin-tcp", "0.0.0.0:" + ProxyProcess.freePort(), "--admin-token-file",
                tokenFile("t").toString());
        assertEquals(2, refused.code(), refused.err());
        assertTrue(refused.err().contains("--admin-allow-remote"), refused.err());
        Cli oldStyle = Cli.run("proxy", "--listen", "127.0.0.1:" + ProxyProcess.freePort(), "--routes",
                routes.toString(), "--admin", "9470");
        assertEquals(2, oldStyle.code(), oldStyle.err());
        assertTrue(oldStyle.err().contains("--admin-tcp 9470 --admin-token-file FILE"), oldStyle.err());
    }

    @Test
    void theAdminSocketRefusesOtherLocalUsers() throws Exception {
        ProxyProcess.EchoTarget a = closeLater(new ProxyProcess.EchoTarget());
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni:\n- fqdn: 10000.fate.org\n"
                + "  tunnel_route: 127.0.0.1:" + a.port() + "\n");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x")); // others may reach run/
        Path socket = dir.resolve("run").resolve("admin.sock");
        int port = ProxyProcess.freePort();
        ProxyProcess proxy = closeLater(ProxyProcess.start("proxy", "--listen", "127.0.0.1:" + port, "--routes",
                routes.toString(), "--admin", "--admin-socket", socket.toString()));
        proxy.awaitLog("fedlink proxy listening on /127.0.0.1:" + port);
        Socket t = tunnel(port, "10000.fate.org");

        Object me = Files.getAttribute(dir, "unix:uid");
        assertEquals(me, Files.getAttribute(socket, "unix:uid", LinkOption.NOFOLLOW_LINKS));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket,
                LinkOption.NOFOLLOW_LINKS)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())));
        if (root()) { // the CLI as nobody, from a jar nobody can read: the kernel refuses the socket's folder
            Path jar = Files.copy(ProxyProcess.jar(), dir.resolve("fedlink-proxy.jar"));
            Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
            Process p = new ProcessBuilder("runuser", "-u", "nobody", "--", Path.of(System.getProperty("java.home"),
                    "bin", "java").toString(), "-jar", jar.toString(), "proxy", "close-tunnels", "--admin-socket",
                    socket.toString(), "--all").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(1, p.exitValue(), out);
            assertTrue(out.contains("cannot reach the admin endpoint at " + socket) && out.contains("ermission"),
                    out);
            assertAlive(t);
        }
        Cli mine = ProxyProcess.run("proxy", "close-tunnels", "--admin-socket", socket.toString(), "--all");
        assertEquals(0, mine.code(), mine.out());
        assertEnded(t);
    }

    @Test
    void adminOverTcpOnlyWithTheTokenAndRefusalsAreCounted() throws Exception {
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni:\n- fqdn: 10000.fate.org\n"
                + "  tunnel_route: 127.0.0.1:1\n");
        Path token = tokenFile("0123456789abcdef-token");
        int port = ProxyProcess.freePort();
        int metrics = ProxyProcess.freePort();
        int admin = ProxyProcess.freePort();
        SocketAddress at = new InetSocketAddress("127.0.0.1", admin);
        ProxyProcess proxy = closeLater(ProxyProcess.start("proxy", "--listen", "127.0.0.1:" + port, "--routes",
                routes.toString(), "--metrics", String.valueOf(metrics), "--admin-tcp", String.valueOf(admin),
                "--admin-token-file", token.toString(), "--admin-socket", dir.resolve("run/admin.sock").toString()));
        proxy.awaitLog("fedlink proxy listening on /127.0.0.1:" + port);
        proxy.awaitLog("fedlink proxy admin on http://127.0.0.1:" + admin + "/tunnels/close (POST, bearer token)");

        assertEquals(401, admin(at, "POST", "all=true").status());
        BoundedHttpServer.Answer wrong = admin(at, "POST", "all=true", "Authorization: Bearer 0123456789abcdef-tokeX");
        assertEquals(401, wrong.status());
        assertTrue(wrong.raw().contains("WWW-Authenticate: Bearer"), wrong.raw());
        assertEquals(401, admin(at, "POST", "all=true", "Authorization: Basic eDp5").status());
        assertEquals(200, admin(at, "POST", "all=true", "Authorization: Bearer 0123456789abcdef-token").status());
        Cli ok = ProxyProcess.run("proxy", "close-tunnels", "--admin-tcp", String.valueOf(admin),
                "--admin-token-file", token.toString(), "--all");
        assertEquals(0, ok.code(), ok.out());
        Cli bad = ProxyProcess.run("proxy", "close-tunnels", "--admin-tcp", String.valueOf(admin),
                "--admin-token-file", tokenFile("nope").toString(), "--all");
        assertEquals(1, bad.code(), bad.out());
        assertTrue(bad.out().contains("HTTP 401"), bad.out());
        String scrape = BoundedHttpServer.exchange(new InetSocketAddress("127.0.0.1", metrics),
                "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", Duration.ofSeconds(30), 1 << 22).body();
        assertTrue(scrape.contains("fedlink_http_refused_total{reason=\"unauthorized\",server=\"admin\"} 4.0"),
                scrape);
        proxy.awaitLog("admin HTTP server: refused unauthorized (401)");
        assertTrue(proxy.count("refused unauthorized") <= 1, "rate-limited: " + proxy.log);
    }

    @Test
    void unsafeAdminFoldersTokensAndStaleSockets() throws Exception {
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni:\n- fqdn: 10000.fate.org\n"
                + "  tunnel_route: 127.0.0.1:1\n");
        Path open = Files.createDirectory(dir.resolve("open"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxrwxrwx")));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Cli loose = ProxyProcess.run("proxy", "--listen", "127.0.0.1:" + ProxyProcess.freePort(), "--routes",
                routes.toString(), "--admin-socket", open.resolve("admin.sock").toString());
        assertEquals(1, loose.code(), loose.out());
        assertTrue(loose.out().contains(open.toString()) && loose.out().contains("rwxrwxrwx")
                && loose.out().contains("chmod 700"), loose.out());

        Path token = tokenFile("t");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
        Cli looseToken = ProxyProcess.run("proxy", "--listen", "127.0.0.1:" + ProxyProcess.freePort(), "--routes",
                routes.toString(), "--admin-tcp", String.valueOf(ProxyProcess.freePort()), "--admin-token-file",
                token.toString());
        assertEquals(1, looseToken.code(), looseToken.out());
        assertTrue(looseToken.out().contains(token.toString()) && looseToken.out().contains("chmod 600"),
                looseToken.out());

        // A socket file left by a crashed proxy is replaced; a link in its place is never followed nor removed.
        Path run = Files.createDirectory(dir.resolve("run"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        Path socket = run.resolve("admin.sock");
        try (var stale = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            stale.bind(UnixDomainSocketAddress.of(socket)); // closed without unlinking: as after kill -9
        }
        int port = ProxyProcess.freePort();
        ProxyProcess proxy = closeLater(ProxyProcess.start("proxy", "--listen", "127.0.0.1:" + port, "--routes",
                routes.toString(), "--admin-socket", socket.toString()));
        proxy.awaitLog("fedlink proxy listening on /127.0.0.1:" + port);
        assertEquals(400, admin(UnixDomainSocketAddress.of(socket), "POST", null).status());
        Cli second = ProxyProcess.run("proxy", "--listen", "127.0.0.1:" + ProxyProcess.freePort(), "--routes",
                routes.toString(), "--admin-socket", socket.toString());
        assertEquals(1, second.code(), second.out());
        assertTrue(second.out().contains("another process serves " + socket), second.out());
        proxy.close();
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "removed on a clean stop");

        Path target = Files.writeString(dir.resolve("precious"), "keep");
        Files.createSymbolicLink(socket, target);
        Cli link = ProxyProcess.run("proxy", "--listen", "127.0.0.1:" + ProxyProcess.freePort(), "--routes",
                routes.toString(), "--admin-socket", socket.toString());
        assertEquals(1, link.code(), link.out());
        assertTrue(link.out().contains(socket + " is a symbolic link"), link.out());
        assertEquals("keep", Files.readString(target));
        assertTrue(Files.isSymbolicLink(socket));
    }
}
