package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged {@code fedlink proxy} as a process: routes from sni.yaml, reload on change, bad files refused, and its
 * {@code --metrics} port.
 */
class ProxyCommandIT {
    @TempDir
    Path dir;
    Process proxy;
    final List<String> log = new CopyOnWriteArrayList<>();
    final List<ServerSocket> targets = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.destroy(); // SIGTERM: graceful close
            assertTrue(proxy.waitFor(30, TimeUnit.SECONDS), "proxy did not stop on SIGTERM");
        }
        for (ServerSocket s : targets) {
            s.close();
        }
    }

    /** A target that answers every connection with its tag and closes. */
    private int target(String tag) throws IOException {
        ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        targets.add(ss);
        Thread t = new Thread(() -> {
            while (!ss.isClosed()) {
                try (Socket s = ss.accept()) {
                    s.getOutputStream().write(tag.getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return ss.getLocalPort();
    }


    private String ask(int port, String name) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(ProxyProcess.hello(name));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    private void awaitLog(String fragment) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (log.stream().noneMatch(l -> l.contains(fragment))) {
            assertTrue(proxy.isAlive(), "proxy exited: " + log);
            assertTrue(System.nanoTime() - end < 0, "no log line with '" + fragment + "' in " + log);
            Thread.sleep(20);
        }
    }

    /**
     * Replaces the route file as the README tells operators to (write beside it, then rename over it), so the proxy
     * never sees a truncated file whatever the machine's load.
     */
    private static void replace(Path file, String text) throws IOException {
        Path tmp = Files.writeString(file.resolveSibling(file.getFileName() + ".tmp"), text);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }


    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Scrapes {@code /metrics} until a line equals {@code line}. */
    private void awaitMetric(int port, String line) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            String body = get(port, "/metrics").body();
            if (body.lines().anyMatch(line::equals)) {
                return;
            }
            assertTrue(System.nanoTime() - end < 0, "no line '" + line + "' in\n" + body);
            Thread.sleep(20);
        }
    }

    @Test
    void routesReloadAndBadFilesAreRefused() throws Exception {
        int a = target("A");
        int b = target("B");
        Path routes = dir.resolve("sni.yaml");
        Files.writeString(routes, "sni:\n- fqdn: 10000.fate.org\n  tunnel_route: 127.0.0.1:" + a + "\n");
        int port = ProxyProcess.freePort();
        int metrics = ProxyProcess.freePort();
        Path jar = Path.of("target", "fedlink.jar");
        assertTrue(Files.exists(jar), "package the CLI first: " + jar.toAbsolutePath());
        proxy = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                jar.toString(), "proxy", "--listen", "127.0.0.1:" + port, "--routes", routes.toString(),
                "--reload-interval", "100ms", "--metrics", String.valueOf(metrics)).redirectErrorStream(true).start();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(proxy.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    log.add(l);
                }
            } catch (IOException e) {
                // process ended
            }
        });
        reader.setDaemon(true);
        reader.start();
        awaitLog("fedlink proxy listening on /127.0.0.1:" + port);
        awaitLog("fedlink proxy metrics on http://127.0.0.1:" + metrics + "/metrics");
        assertEquals(200, get(metrics, "/readyz").statusCode());
        assertEquals("A", ask(port, "10000.fate.org"));
        awaitMetric(metrics, "fedlink_tunnels_closed_total{reason=\"completed\"} 1.0");
        awaitMetric(metrics, "fedlink_tunnels_opened_total{route=\"10000.fate.org\"} 1.0");

        replace(routes, "sni:\n- fqdn: 10000.fate.org\n  tunnel_route: 127.0.0.1:" + b + "\n"
                + "- fqdn: '*.eu.fate.org'\n  tunnel_route: 127.0.0.1:" + a + "\n");
        awaitLog("reloaded " + routes + ": 2 routes");
        assertEquals("B", ask(port, "10000.fate.org"));
        assertEquals("A", ask(port, "x.eu.fate.org"));

        replace(routes, "sni:\n- fqdn: bad_name\n  tunnel_route: 127.0.0.1:" + a + "\n");
        awaitLog("refused to reload " + routes + "; keeping the previous 2 routes");
        assertTrue(log.stream().anyMatch(l -> l.contains("sni[0] (fqdn 'bad_name')")), log.toString());
        assertEquals("B", ask(port, "10000.fate.org"), "the old table stays in force");
        awaitMetric(metrics, "fedlink_route_reload_failing 1.0");
        awaitMetric(metrics, "fedlink_route_table_version 2.0");
        awaitLog("access - client=/127.0.0.1:");
    }
}
