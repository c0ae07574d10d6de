package io.fedlink.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One scrape of a {@link MetricsServer}: the samples of its text exposition, and promtool's verdict on it. */
record Scrape(String text, List<Sample> samples) {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** One line of the exposition: name, labels, value. */
    record Sample(String name, Map<String, String> labels, double value) {}

    /** GETs {@code path}; returns the status and body. */
    static HttpResponse<String> get(MetricsServer server, String path) throws IOException, InterruptedException {
        URI uri = URI.create("http://127.0.0.1:" + server.address().getPort() + path);
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Scrapes {@code /metrics} (200 expected) and parses every sample. */
    static Scrape of(MetricsServer server) throws IOException, InterruptedException {
        HttpResponse<String> r = get(server, "/metrics");
        assertEquals(200, r.statusCode(), r.body());
        List<Sample> samples = new ArrayList<>();
        for (String line : r.body().split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            String name = brace >= 0 ? line.substring(0, brace) : line.substring(0, space);
            Map<String, String> labels = new LinkedHashMap<>();
            if (brace >= 0) {
                Matcher m = LABEL.matcher(line.substring(brace, line.lastIndexOf('}')));
                while (m.find()) {
                    labels.put(m.group(1), m.group(2));
                }
            }
            samples.add(new Sample(name, labels, Double.parseDouble(line.substring(space + 1))));
        }
        return new Scrape(r.body(), samples);
    }

    /** The value of the one sample named {@code name} carrying these label pairs (others ignored), 0 if none. */
    double value(String name, String... labelPairs) {
        List<Sample> found = samples.stream().filter(s -> s.name.equals(name) && has(s, labelPairs)).toList();
        assertTrue(found.size() <= 1, name + " " + List.of(labelPairs) + " matches " + found);
        return found.isEmpty() ? 0 : found.get(0).value;
    }

    /** Every value the label {@code label} takes in samples named {@code name}. */
    List<String> labelValues(String name, String label) {
        return samples.stream().filter(s -> s.name.equals(name)).map(s -> s.labels.get(label)).distinct().toList();
    }

    private static boolean has(Sample s, String... pairs) {
        for (int i = 0; i < pairs.length; i += 2) {
            if (!pairs[i + 1].equals(s.labels.get(pairs[i]))) {
                return false;
            }
        }
        return true;
    }

    /** Runs {@code promtool check metrics} on the text; fails the test with promtool's output unless it passes. */
    void assertPromtoolAccepts() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(text.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "promtool did not finish");
        assertEquals(0, p.exitValue(), "promtool check metrics:\n" + out + "\non:\n" + text);
    }
}
