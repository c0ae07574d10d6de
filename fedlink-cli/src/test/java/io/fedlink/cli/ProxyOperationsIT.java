package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

    private static HttpResponse<String> post(int port, String query, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/tunnels/close"
                + (query == null ? "" : "?" + query))).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
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
                routes.toString(), "--metrics", String.valueOf(metrics), "--admin", String.valueOf(admin)));
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
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, closed.statusCode(), closed.body());
        for (Socket s : stalled) { // cut after the request time limit (10 s), well inside the 30 s read timeout
            assertEnded(s);
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
        int admin = ProxyProcess.freePort();
        ProxyProcess proxy = closeLater(ProxyProcess.start("proxy", "--listen", "127.0.0.1:" + port, "--routes",
                routes.toString(), "--admin", String.valueOf(admin)));
        proxy.awaitLog("fedlink proxy admin on http://127.0.0.1:" + admin + "/tunnels/close (POST)");
        proxy.awaitLog("fedlink proxy listening on /127.0.0.1:" + port);

        Socket a1 = tunnel(port, "10000.fate.org");
        Socket a2 = tunnel(port, "10000.fate.org");
        Socket b1 = tunnel(port, "9999.fate.org");

        Cli closed = ProxyProcess.run("proxy", "close-tunnels", "--admin", "127.0.0.1:" + admin, "--server-name",
                "10000.FATE.org.");
        assertEquals(0, closed.code(), closed.out());
        assertTrue(closed.out().contains("closed 2 tunnels (server-name=10000.fate.org)"), closed.out());
        assertEnded(a1);
        assertEnded(a2);
        assertAlive(b1);
        proxy.awaitLog("closed 2 tunnels on /127.0.0.1:" + port + " on request (reason ROTATED)");
        proxy.awaitLog(l -> l.contains(" access - ") && l.contains("reason=ROTATED"), "an access line");

        // The endpoint refuses what a browser could be made to send, and bad selectors, naming the problem.
        HttpResponse<String> get = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + admin + "/tunnels/close?all=true")).timeout(Duration.ofSeconds(30))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, get.statusCode());
        assertEquals("POST", get.headers().firstValue("Allow").orElse(null));
        assertEquals(403, post(admin, "all=true", "Origin", "http://evil.example").statusCode());
        HttpResponse<String> none = post(admin, null);
        assertEquals(400, none.statusCode());
        assertTrue(JSON.readTree(none.body()).get("error").asText().contains("give exactly one of"), none.body());
        HttpResponse<String> bad = post(admin, "server-name=bad_name");
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body().contains("bad_name"), bad.body());
        assertEquals(400, post(admin, "all=true&route=x.fate.org").statusCode());
        assertEquals(400, post(admin, "all=yes").statusCode());
        assertEquals(404, HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + admin + "/tunnels")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        assertAlive(b1);

        // By route entry: the wildcard serving 9999.fate.org.
        Socket b2 = tunnel(port, "8888.fate.org");
        HttpResponse<String> byRoute = post(admin, "route=" + "*.FATE.org".replace("*", "%2A"));
        assertEquals(200, byRoute.statusCode(), byRoute.body());
        JsonNode answer = JSON.readTree(byRoute.body());
        assertEquals(2, answer.get("closed").asInt(), byRoute.body());
        assertEquals("route=*.fate.org", answer.get("selector").asText());
        assertEnded(b1);
        assertEnded(b2);

        Socket a3 = tunnel(port, "10000.fate.org");
        Cli all = ProxyProcess.run("proxy", "close-tunnels", "--admin", String.valueOf(admin), "--all");
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
        int admin = ProxyProcess.freePort();
        ProxyProcess proxy = closeLater(ProxyProcess.startSplit("proxy", "--listen", "127.0.0.1:" + port, "--routes",
                routes.toString(), "--access-log-format", "JSON", "--admin", String.valueOf(admin)));
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
        assertEquals(200, post(admin, "all=true").statusCode());
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
        Cli none = Cli.run("proxy", "close-tunnels", "--admin", "9470");
        assertEquals(2, none.code(), none.err());
        assertTrue(none.err().contains("--server-name") && none.err().contains("--all"), none.err());
        Cli two = Cli.run("proxy", "close-tunnels", "--admin", "9470", "--all", "--route", "x.fate.org");
        assertEquals(2, two.code(), two.err());
        int nobody = ProxyProcess.freePort();
        Cli down = Cli.run("proxy", "close-tunnels", "--admin", String.valueOf(nobody), "--all");
        assertEquals(1, down.code(), down.err());
        assertTrue(down.err().contains("cannot reach the admin endpoint at 127.0.0.1:" + nobody), down.err());
        Cli badAddress = Cli.run("proxy", "close-tunnels", "--admin", "proxy.fate.org:9470", "--all");
        assertNotEquals(0, badAddress.code());
        assertTrue(badAddress.err().contains("--admin proxy.fate.org:9470 must be [IP:]PORT"), badAddress.err());
    }

    @Test
    void adminOnANonLoopbackAddressNeedsToBeAllowed() throws Exception {
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni:\n- fqdn: 10000.fate.org\n"
                + "  tunnel_route: 127.0.0.1:1\n");
        Cli refused = Cli.run("proxy", "--listen", "127.0.0.1:" + ProxyProcess.freePort(), "--routes",
                routes.toString(), "--admin", "0.0.0.0:" + ProxyProcess.freePort());
        assertEquals(2, refused.code(), refused.err());
        assertTrue(refused.err().contains("--admin-allow-remote"), refused.err());
    }
}
