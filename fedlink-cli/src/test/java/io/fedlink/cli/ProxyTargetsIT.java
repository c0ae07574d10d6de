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
 * The packaged {@code fedlink proxy} with a route listing two targets, one of them down: every client gets through,
 * the dead target is ejected after {@code --target-failures}, logged once, and shown in {@code fedlink_target_up}.
 */
class ProxyTargetsIT {
    @TempDir
    Path dir;
    Process proxy;
    final List<String> log = new CopyOnWriteArrayList<>();
    ServerSocket live;

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.destroy();
            assertTrue(proxy.waitFor(30, TimeUnit.SECONDS), "proxy did not stop on SIGTERM");
        }
        if (live != null) {
            live.close();
        }
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

    private static String metrics(int port) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void aDeadTargetIsSkippedLoggedAndShown() throws Exception {
        live = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (!live.isClosed()) {
                try (Socket s = live.accept()) {
                    s.getOutputStream().write('A');
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        int dead = ProxyProcess.freePort();
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni:\n- fqdn: 10000.fate.org\n  tunnel_route:\n"
                + "  - 127.0.0.1:" + dead + "\n  - 127.0.0.1:" + live.getLocalPort() + "\n");
        int port = ProxyProcess.freePort();
        int metricsPort = ProxyProcess.freePort();
        Path jar = Path.of("target", "fedlink-proxy.jar");
        assertTrue(Files.exists(jar), "package the CLI first: " + jar.toAbsolutePath());
        proxy = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                jar.toString(), "proxy", "--listen", "127.0.0.1:" + port, "--routes", routes.toString(),
                "--metrics", String.valueOf(metricsPort), "--target-failures", "1", "--target-ejection", "10m")
                .redirectErrorStream(true).start();
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
        for (int i = 0; i < 4; i++) {
            assertEquals("A", ask(port, "10000.fate.org"), "connection " + i);
        }
        awaitLog("target ejected route=10000.fate.org target=127.0.0.1:" + dead);
        assertEquals(1, log.stream().filter(l -> l.contains("target ejected")).count(), log.toString());
        String body = metrics(metricsPort);
        assertTrue(body.contains("fedlink_target_up{route=\"10000.fate.org\",target=\"127.0.0.1:" + dead + "\"} 0.0"),
                body);
        assertTrue(body.contains("fedlink_target_up{route=\"10000.fate.org\",target=\"127.0.0.1:"
                + live.getLocalPort() + "\"} 1.0"), body);
        assertTrue(body.contains("fedlink_connections_refused_total{reason=\"connect_failed\"} 0.0"), body);
    }
}
