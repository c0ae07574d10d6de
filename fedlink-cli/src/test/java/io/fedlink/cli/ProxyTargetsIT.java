package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
    ProxyProcess proxy;
    ProxyProcess.TagTarget live;

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            try {
                proxy.process.destroy(); // SIGTERM: graceful close
                assertTrue(proxy.process.waitFor(30, TimeUnit.SECONDS), "proxy did not stop on SIGTERM");
            } finally {
                proxy.close();
            }
        }
        if (live != null) {
            live.close();
        }
    }

    private static String metrics(int port) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void aDeadTargetIsSkippedLoggedAndShown() throws Exception {
        live = new ProxyProcess.TagTarget("A");
        int dead = ProxyProcess.closedPort();
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni:\n- fqdn: 10000.fate.org\n  tunnel_route:\n"
                + "  - 127.0.0.1:" + dead + "\n  - 127.0.0.1:" + live.port() + "\n");
        int port = ProxyProcess.freePort();
        int metricsPort = ProxyProcess.freePort();
        proxy = ProxyProcess.start("proxy", "--listen", "127.0.0.1:" + port, "--routes", routes.toString(),
                "--metrics", String.valueOf(metricsPort), "--target-failures", "1", "--target-ejection", "10m");
        proxy.awaitLog("fedlink proxy listening on /127.0.0.1:" + port);
        for (int i = 0; i < 4; i++) {
            assertEquals("A", ProxyProcess.ask(port, "10000.fate.org"), "connection " + i);
        }
        proxy.awaitLog("target ejected route=10000.fate.org target=127.0.0.1:" + dead);
        assertEquals(1, proxy.count("target ejected"), proxy.log.toString());
        String body = metrics(metricsPort);
        assertTrue(body.contains("fedlink_target_up{route=\"10000.fate.org\",target=\"127.0.0.1:" + dead + "\"} 0.0"),
                body);
        assertTrue(body.contains("fedlink_target_up{route=\"10000.fate.org\",target=\"127.0.0.1:"
                + live.port() + "\"} 1.0"), body);
        assertTrue(body.contains("fedlink_connections_refused_total{reason=\"connect_failed\"} 0.0"), body);
    }
}
