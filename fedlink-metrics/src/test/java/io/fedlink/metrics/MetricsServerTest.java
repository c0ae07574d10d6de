package io.fedlink.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fedlink.api.BoundedHttpServer;
import io.fedlink.api.RouteHolder;
import io.fedlink.api.RouteTable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The metrics and health port under hostile clients. */
class MetricsServerTest {
    @Test
    void healthAnswersWhileAThousandHalfRequestsAreHeldOpen() throws Exception {
        ProxyMetrics metrics = ProxyMetrics.watching(new RouteHolder(RouteTable.empty()));
        try (MetricsServer server = MetricsServer.start(new InetSocketAddress("127.0.0.1", 0), metrics);
             HalfRequests stalled = new HalfRequests(server.address(), 1000, 50)) {
            HttpResponse<String> health = Scrape.get(server, "/healthz"); // 10 s timeout: generous
            assertEquals(200, health.statusCode(), health.body());
            assertEquals(200, Scrape.get(server, "/metrics").statusCode());
        }
    }

    private static BoundedHttpServer.Answer raw(MetricsServer server, String request) throws IOException {
        return BoundedHttpServer.exchange(server.address(), request, Duration.ofSeconds(10), 1 << 20);
    }

    @Test
    void refusalsAreAnsweredAndCounted() throws Exception {
        ProxyMetrics metrics = ProxyMetrics.watching(new RouteHolder(RouteTable.empty()));
        try (MetricsServer server = MetricsServer.start(new InetSocketAddress("127.0.0.1", 0), metrics)) {
            assertEquals(431, raw(server, "GET /healthz HTTP/1.1\r\nX-Big: "
                    + "x".repeat(20_000) + "\r\n\r\n").status());
            assertEquals(413, raw(server, "GET /healthz HTTP/1.1\r\n"
                    + "Content-Length: 10\r\n\r\n").status());
            Scrape s = Scrape.of(server);
            assertEquals(1, s.value("fedlink_http_refused_total", "server", "metrics", "reason", "headers_too_large"));
            assertEquals(1, s.value("fedlink_http_refused_total", "server", "metrics", "reason", "body_too_large"));
        }
    }
}
