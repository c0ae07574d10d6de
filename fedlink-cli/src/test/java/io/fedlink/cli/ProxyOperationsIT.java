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

/** Operating the packaged {@code fedlink proxy} as a process: the admin endpoint and {@code proxy close-tunnels}. */
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
