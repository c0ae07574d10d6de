package io.fedlink.cli;

import io.fedlink.api.ClientAuth;
import io.fedlink.api.RefusalReason;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TlsMaterial;
import io.fedlink.api.TunnelServer;
import io.fedlink.api.TunnelStats;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.IssuedCertificate;
import io.fedlink.federation.ClusterMetadata;
import io.fedlink.federation.PulsarRouteTable;
import io.fedlink.sni.SniProxy;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code fedlink demo}: the FATE star network in one process on loopback. A CA constrained to {@code fate.org}
 * issues party certificates; two parties run TLS services requiring client certificates; the SNI proxy routes by
 * server name from routes derived from FATE's route table; each party sends the other a message through the proxy
 * with hostname verification on; an unknown party is refused. Exits 0 only if everything behaved.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the FATE star network on loopback: CA, party certificates, SNI proxy, a message each way.")
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "demo-party");
        t.setDaemon(true);
        return t;
    });

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        List<AutoCloseable> open = new ArrayList<>();
        try {
            return run(out, open);
        } finally {
            for (int i = open.size() - 1; i >= 0; i--) {
                open.get(i).close();
            }
            pool.shutdownNow();
        }
    }

    private int run(PrintWriter out, List<AutoCloseable> open) throws Exception {
        CertificateAuthority ca = CertificateAuthority.builder().commonName("fate.org federation CA")
                .permitDns("fate.org").create();
        out.println("==> CA  " + ca.root().getSubjectX500Principal().getName()
                + " (EC P-256, may only issue names under fate.org)");
        IssuedCertificate c10000 = ca.issue(CertificateRequest.party("10000", "fate.org"));
        IssuedCertificate c9999 = ca.issue(CertificateRequest.party("9999", "fate.org"));
        out.println("==> issued 10000.fate.org (serial " + c10000.certificate().getSerialNumber().toString(16)
                + ") and 9999.fate.org (serial " + c9999.certificate().getSerialNumber().toString(16) + ")");

        SSLServerSocket s10000 = party(c10000.tlsMaterial(), "10000", out);
        SSLServerSocket s9999 = party(c9999.tlsMaterial(), "9999", out);
        open.add(s10000);
        open.add(s9999);

        // FATE's pulsar_route_table.yaml as the proxy operator keeps it: one source of truth for the routes.
        String routeTableYaml = "10000:\n  host: 127.0.0.1\n  sslPort: " + s10000.getLocalPort() + "\n"
                + "9999:\n  host: 127.0.0.1\n  sslPort: " + s9999.getLocalPort() + "\n"
                + "default:\n  domain: fate.org\n  proxy: proxy.fate.org:443\n";
        PulsarRouteTable table = PulsarRouteTable.parse(routeTableYaml);
        RouteTable routes = table.proxyRoutes();
        TunnelServer proxy = SniProxy.builder().bindLoopback(0).eventLoops(2).routes(routes).start();
        open.add(proxy);
        out.println("==> SNI proxy on " + proxy.localAddress() + ", routes from the FATE route table:");
        routes.routes().forEach(r -> out.println("      " + r));

        boolean ok = true;
        ok &= exchange(out, proxy.localAddress(), c10000.tlsMaterial(), "9999", "hello from 10000");
        ok &= exchange(out, proxy.localAddress(), c9999.tlsMaterial(), "10000", "hello from 9999");

        try {
            send(proxy.localAddress(), c10000.tlsMaterial(), "8888.fate.org", "anyone there?");
            out.println("!!  8888.fate.org was NOT refused");
            ok = false;
        } catch (SSLException e) {
            out.println("==> 8888.fate.org (no route) refused by the proxy: " + e.getMessage());
        }

        TunnelStats s = awaitQuiet(proxy);
        out.println("==> the proxy saw " + s.accepted() + " connections: " + s.routed() + " tunnelled ("
                + s.bytesFromClients() + " bytes in, " + s.bytesToClients() + " bytes out, never decrypted), "
                + s.refused(RefusalReason.UNKNOWN_SERVER_NAME) + " refused as unknown names");
        ok &= s.routed() == 2 && s.refused(RefusalReason.UNKNOWN_SERVER_NAME) == 1;

        // Party 10000's own route table lists only itself; every other party is <id>.fate.org via the proxy.
        PulsarRouteTable table10000 = PulsarRouteTable.parse("10000:\n  host: 127.0.0.1\n  port: 6650\n"
                + "default:\n  proxy: proxy.fate.org:443\n  domain: fate.org\n");
        out.println("==> with its own route table, party 10000 registers party 9999 in Pulsar as:");
        out.println(ClusterMetadata.forParty(table10000, "9999").toJson());
        out.println(ok ? "==> star network OK" : "!!  star network FAILED");
        out.flush();
        return ok ? 0 : 1;
    }

    /** A party's TLS service: requires a federation client certificate, answers who it is and who asked. */
    private SSLServerSocket party(TlsMaterial tls, String id, PrintWriter out) throws IOException {
        SSLServerSocket ss = (SSLServerSocket) tls.serverContext(ClientAuth.REQUIRED).getServerSocketFactory()
                .createServerSocket(0, 50, InetAddress.getLoopbackAddress());
        out.println("==> party " + id + " TLS service on 127.0.0.1:" + ss.getLocalPort()
                + " (client certificates required)");
        pool.execute(() -> {
            while (!ss.isClosed()) {
                try {
                    SSLSocket s = (SSLSocket) ss.accept();
                    pool.execute(() -> answer(s, id));
                } catch (IOException e) {
                    return;
                }
            }
        });
        return ss;
    }

    private static void answer(SSLSocket s, String id) {
        try (s) {
            s.setSoTimeout(10_000);
            String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
            String peer = ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal()
                    .getName();
            PrintWriter w = new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8);
            w.println("party " + id + " received '" + line + "' from " + peer + " over " + s.getSession().getProtocol());
        } catch (IOException e) {
            // a refused or broken client: nothing to answer
        }
    }

    private static boolean exchange(PrintWriter out, InetSocketAddress proxy, TlsMaterial from, String to,
                                    String message) throws IOException {
        String reply = send(proxy, from, to + ".fate.org", message);
        out.println("==> " + from.certificate().getSubjectX500Principal().getName() + " -> " + to + ".fate.org: "
                + reply);
        return reply != null && reply.startsWith("party " + to + " received '" + message + "'");
    }

    /** Connects to the proxy and speaks TLS to {@code serverName}, verifying its certificate and name. */
    private static String send(InetSocketAddress proxy, TlsMaterial from, String serverName, String message)
            throws IOException {
        Socket plain = new Socket();
        plain.connect(proxy, 10_000);
        try (SSLSocket s = (SSLSocket) from.clientContext().getSocketFactory().createSocket(plain, serverName, 443,
                true)) {
            s.setSoTimeout(10_000);
            s.startHandshake();
            PrintWriter w = new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8);
            w.println(message);
            return new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }

    /** Counters settle once the last tunnel has closed. */
    private static TunnelStats awaitQuiet(TunnelServer proxy) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (proxy.stats().liveTunnels() > 0 && System.nanoTime() - end < 0) {
            Thread.sleep(10);
        }
        return proxy.stats();
    }
}
