package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fedlink.api.PartyRoute;
import io.fedlink.api.ProxyProtocol;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real HAProxy (Debian's {@code haproxy}) in front of the proxy as an L4 load balancer with {@code send-proxy-v2}:
 * the target behind fedlink learns the original client (127.0.0.2) through fedlink's outgoing PROXY header.
 */
class HaproxyIT extends ProxyFixture {
    @TempDir
    Path dir;

    /** The haproxy binary on the PATH or in /usr/sbin (Debian's place), or {@code null}. */
    private static Path haproxy() {
        for (String d : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "haproxy"))) {
                return Path.of(d, "haproxy");
            }
        }
        return null;
    }

    @Test
    void theTargetSeesTheClientBehindHaproxy() throws Exception {
        Path binary = haproxy();
        Assumptions.assumeTrue(binary != null, "haproxy is not installed (test.sh installs Debian's haproxy)");
        List<byte[]> received = new CopyOnWriteArrayList<>();
        Loopback.Target target = keep(new Loopback.Target(s -> received.add(s.getInputStream().readAllBytes())));
        TunnelServer p = proxy(RouteTable.builder().add(PartyRoute.builder("a.example").target(target.endpoint())
                .allowClients("127.0.0.2/32").proxyProtocol(ProxyProtocol.V1).build()).build(),
                b -> b.proxyProtocolFrom("127.0.0.1/32"));
        int front = Loopback.closedPort();
        Path cfg = Files.writeString(dir.resolve("haproxy.cfg"), String.join("\n",
                "global",
                "  maxconn 64",
                "defaults",
                "  mode tcp",
                "  timeout connect 5s",
                "  timeout client 30s",
                "  timeout server 30s",
                "frontend fe",
                "  bind 127.0.0.1:" + front,
                "  default_backend be",
                "backend be",
                "  server fedlink 127.0.0.1:" + p.localAddress().getPort() + " send-proxy-v2",
                ""));
        Process haproxy = new ProcessBuilder(binary.toString(), "-db", "-f", cfg.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        keep(() -> {
            haproxy.destroy();
            haproxy.waitFor();
        });
        Loopback.await("haproxy to listen", 20, () -> {
            try (Socket s = new Socket(Loopback.LOOPBACK, front)) {
                return true;
            } catch (IOException e) {
                return haproxy.isAlive() ? false : failed(dir);
            }
        });
        byte[] hello = Hellos.jsse("a.example");
        int clientPort;
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 2}), 0));
            s.connect(new InetSocketAddress(Loopback.LOOPBACK, front), 10_000);
            s.setSoTimeout(20_000);
            clientPort = s.getLocalPort();
            s.getOutputStream().write(hello);
            s.shutdownOutput();
            s.getInputStream().readAllBytes();
        }
        Loopback.await("the target to get the tunnel", 20, () -> received.size() >= 1);
        String expected = "PROXY TCP4 127.0.0.2 127.0.0.1 " + clientPort + " " + p.localAddress().getPort() + "\r\n";
        byte[] got = received.get(0);
        assertEquals(expected, new String(got, 0, Math.min(got.length, expected.length()), StandardCharsets.US_ASCII));
        assertEquals(Arrays.toString(hello), Arrays.toString(Arrays.copyOfRange(got, expected.length(), got.length)),
                "the hello follows unchanged");
    }

    private static boolean failed(Path dir) {
        try {
            throw new AssertionError("haproxy exited: " + Files.readString(dir.resolve("haproxy.log")));
        } catch (IOException e) {
            throw new AssertionError("haproxy exited", e);
        }
    }
}
