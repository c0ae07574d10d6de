package io.fedlink.cli;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code fedlink proxy close-tunnels}: asks a running {@code fedlink proxy --admin} to close tunnels (one server
 * name's, one route entry's, or all) so that their clients reconnect with new TLS handshakes, for example once the
 * parties' brokers have re-read rotated certificate files.
 */
@Command(name = "close-tunnels", mixinStandardHelpOptions = true,
        description = {"Close tunnels of a running 'fedlink proxy --admin' so that their clients reconnect with new TLS"
                + " handshakes (e.g. after the targets re-read rotated certificates). Prints how many were closed."})
final class CloseTunnelsCommand implements Callable<Integer> {
    private static final Pattern CLOSED = Pattern.compile("\"closed\":(\\d+)");
    private static final Pattern ERROR = Pattern.compile("\"error\":\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern SELECTOR = Pattern.compile("\"selector\":\"((?:[^\"\\\\]|\\\\.)*)\"");

    @Option(names = "--admin", required = true, paramLabel = "[IP:]PORT",
            description = "the proxy's --admin address (IP 127.0.0.1 when only a port is given)")
    String admin;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;

    /** Exactly one selector. */
    static final class Which {
        @Option(names = "--server-name", paramLabel = "NAME", description = "tunnels whose ClientHello named NAME,"
                + " e.g. 9999.fate.org")
        String serverName;
        @Option(names = "--route", paramLabel = "ENTRY", description = "tunnels served by this route entry (its"
                + " pattern as in the route file), e.g. '*.fate.org'")
        String route;
        @Option(names = "--all", description = "every tunnel")
        boolean all;
    }

    @Spec
    CommandSpec spec;

    /** The query string of the request. */
    String query() {
        if (which.serverName != null) {
            return "server-name=" + URLEncoder.encode(which.serverName, StandardCharsets.UTF_8);
        }
        if (which.route != null) {
            return "route=" + URLEncoder.encode(which.route, StandardCharsets.UTF_8);
        }
        return "all=true";
    }

    @Override
    public Integer call() throws Exception {
        InetSocketAddress at = ProxyCommand.ipAndPort("--admin", admin, 9470);
        String ip = at.getAddress().getHostAddress();
        String host = ip.contains(":") ? "[" + ip + "]" : ip;
        URI uri = URI.create("http://" + host + ":" + at.getPort() + AdminServer.CLOSE_PATH + "?" + query());
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        HttpResponse<String> r;
        try {
            r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        } catch (ConnectException e) {
            throw new IOException("cannot reach the admin endpoint at " + host + ":" + at.getPort() + " (connection"
                    + " refused): is the proxy running with --admin " + admin + "?", e);
        } catch (IOException e) {
            throw new IOException("the admin endpoint at " + host + ":" + at.getPort() + " did not answer: "
                    + e.getMessage(), e);
        }
        Matcher closed = CLOSED.matcher(r.body());
        if (r.statusCode() == 200 && closed.find()) {
            long n = Long.parseLong(closed.group(1));
            Matcher selector = SELECTOR.matcher(r.body());
            spec.commandLine().getOut().println("closed " + n + " tunnel" + (n == 1 ? "" : "s") + " ("
                    + (selector.find() ? selector.group(1) : query()) + ")");
            spec.commandLine().getOut().flush();
            return 0;
        }
        Matcher error = ERROR.matcher(r.body());
        spec.commandLine().getErr().println("fedlink: the admin endpoint refused (HTTP " + r.statusCode() + "): "
                + (error.find() ? error.group(1) : r.body().strip()));
        return 1;
    }
}
