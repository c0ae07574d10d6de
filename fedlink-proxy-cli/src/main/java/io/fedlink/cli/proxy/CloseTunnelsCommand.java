package io.fedlink.cli.proxy;

import io.fedlink.app.AdminServer;
import io.fedlink.app.AdminSocket;
import io.fedlink.api.BoundedHttpServer;
import io.fedlink.cli.support.Secrets;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code fedlink proxy close-tunnels}: asks a running {@code fedlink proxy --admin} to close tunnels (one server
 * name's, one route entry's, or all) so that their clients reconnect with new TLS handshakes, for example once the
 * parties' brokers have re-read rotated certificate files. Talks to the proxy's admin socket by default, or to its
 * TCP admin endpoint with the token ({@code --admin-tcp}, {@code --admin-token-file}).
 */
@Command(name = "close-tunnels", mixinStandardHelpOptions = true,
        description = {"Close tunnels of a running 'fedlink proxy --admin' so that their clients reconnect with new TLS"
                + " handshakes (e.g. after the targets re-read rotated certificates). Prints how many were closed."})
final class CloseTunnelsCommand implements Callable<Integer> {
    private static final Pattern CLOSED = Pattern.compile("\"closed\":(\\d+)");
    private static final Pattern ERROR = Pattern.compile("\"error\":\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern SELECTOR = Pattern.compile("\"selector\":\"((?:[^\"\\\\]|\\\\.)*)\"");

    @Option(names = "--admin-socket", paramLabel = "PATH",
            description = "the proxy's admin socket (default: the proxy's default, $XDG_RUNTIME_DIR/fedlink/admin.sock"
                    + " or fedlink-UID/admin.sock in the temporary folder)")
    Path socket;
    @Option(names = "--admin-tcp", paramLabel = "[IP:]PORT",
            description = "the proxy's --admin-tcp address instead (IP 127.0.0.1 when only a port is given)")
    String tcp;
    @Option(names = "--admin-token-file", paramLabel = "FILE",
            description = "with --admin-tcp: the file (mode 0600) holding the proxy's admin token")
    Path tokenFile;

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
        CommandLine cl = spec.commandLine();
        if (tcp != null && tokenFile == null) {
            throw new CommandLine.ParameterException(cl, "--admin-tcp needs --admin-token-file FILE (the proxy's"
                    + " admin token)");
        }
        if (tcp != null && socket != null) {
            throw new CommandLine.ParameterException(cl, "give either --admin-socket or --admin-tcp, not both");
        }
        SocketAddress at;
        String auth = "";
        if (tcp != null) {
            at = ProxyCommand.ipAndPort("--admin-tcp", tcp, 9470);
            auth = "Authorization: Bearer " + new String(Secrets.readToken(tokenFile), StandardCharsets.UTF_8)
                    + "\r\n";
        } else {
            at = UnixDomainSocketAddress.of(socket != null ? socket : AdminSocket.defaultPath());
        }
        String where = BoundedHttpServer.describe(at);
        BoundedHttpServer.Answer r;
        try {
            r = BoundedHttpServer.exchange(at, "POST " + AdminServer.CLOSE_PATH + "?" + query() + " HTTP/1.1\r\n"
                    + "Host: localhost\r\nContent-Length: 0\r\n" + auth + "\r\n", Duration.ofSeconds(30), 1 << 16);
        } catch (ConnectException e) {
            throw new IOException("cannot reach the admin endpoint at " + where + " (" + e.getMessage() + "): is the"
                    + " proxy running with " + (tcp != null ? "--admin-tcp " + tcp : "--admin (same --admin-socket)")
                    + ", and may this user reach it?", e);
        } catch (IOException e) {
            throw new IOException("the admin endpoint at " + where + " did not answer: " + e.getMessage(), e);
        }
        Matcher closed = CLOSED.matcher(r.body());
        if (r.status() == 200 && closed.find()) {
            long n = Long.parseLong(closed.group(1));
            Matcher selector = SELECTOR.matcher(r.body());
            cl.getOut().println("closed " + n + " tunnel" + (n == 1 ? "" : "s") + " ("
                    + (selector.find() ? selector.group(1) : query()) + ")");
            cl.getOut().flush();
            return 0;
        }
        Matcher error = ERROR.matcher(r.body());
        cl.getErr().println("fedlink: the admin endpoint refused (HTTP " + r.status() + "): "
                + (error.find() ? error.group(1) : r.body().strip()));
        return 1;
    }
}
