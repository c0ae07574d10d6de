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
 * The packaged {@code fedlink proxy} as a process: routes from sni.yaml, reload on change, bad files refused, and its
 * {@code --metrics} port.
 */
class ProxyCommandIT {
    @TempDir
    Path dir;
    ProxyProcess proxy;
    ProxyProcess.TagTarget a;
    ProxyProcess.TagTarget b;

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
        for (ProxyProcess.TagTarget t : new ProxyProcess.TagTarget[] {a, b}) {
            if (t != null) {
                t.close();
            }
        }
    }

    /** GETs {@code path} from the metrics port on 127.0.0.1 ({@code port}): status and body. */
    static HttpResponse<String> get(int port, String path) throws Exception {
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
        a = new ProxyProcess.TagTarget("A");
        b = new ProxyProcess.TagTarget("B");
        Path routes = dir.resolve("sni.yaml");
        Files.writeString(routes, "sni:\n- fqdn: 10000.fate.org\n  tunnel_route: 127.0.0.1:" + a.port() + "\n");
        int port = ProxyProcess.freePort();
        int metrics = ProxyProcess.freePort();
        // The full CLI jar, so both packaged jars start a proxy in every build (the other process tests use the
        // proxy jar).
        proxy = ProxyProcess.start(ProxyProcess.fullJar(), "proxy", "--listen", "127.0.0.1:" + port, "--routes",
                routes.toString(), "--reload-interval", "100ms", "--metrics", String.valueOf(metrics));
        proxy.awaitLog("fedlink proxy listening on /127.0.0.1:" + port);
        proxy.awaitLog("fedlink proxy metrics on http://127.0.0.1:" + metrics + "/metrics");
        assertEquals(200, get(metrics, "/readyz").statusCode());
        assertEquals("A", ProxyProcess.ask(port, "10000.fate.org"));
        awaitMetric(metrics, "fedlink_tunnels_closed_total{reason=\"completed\"} 1.0");
        awaitMetric(metrics, "fedlink_tunnels_opened_total{route=\"10000.fate.org\"} 1.0");

        ProxyProcess.replace(routes, "sni:\n- fqdn: 10000.fate.org\n  tunnel_route: 127.0.0.1:" + b.port() + "\n"
                + "- fqdn: '*.eu.fate.org'\n  tunnel_route: 127.0.0.1:" + a.port() + "\n");
        proxy.awaitLog("reloaded " + routes + ": 2 routes");
        assertEquals("B", ProxyProcess.ask(port, "10000.fate.org"));
        assertEquals("A", ProxyProcess.ask(port, "x.eu.fate.org"));

        ProxyProcess.replace(routes, "sni:\n- fqdn: bad_name\n  tunnel_route: 127.0.0.1:" + a.port() + "\n");
        proxy.awaitLog("refused to reload " + routes + "; keeping the previous 2 routes");
        assertTrue(proxy.count("sni[0] (fqdn 'bad_name')") > 0, proxy.log.toString());
        assertEquals("B", ProxyProcess.ask(port, "10000.fate.org"), "the old table stays in force");
        awaitMetric(metrics, "fedlink_route_reload_failing 1.0");
        awaitMetric(metrics, "fedlink_route_table_version 2.0");
        proxy.awaitLog("access - client=/127.0.0.1:");
    }
}
