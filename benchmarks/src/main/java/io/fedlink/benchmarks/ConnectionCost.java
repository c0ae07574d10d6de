package io.fedlink.benchmarks;

import io.fedlink.api.ClientAuth;
import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * The cost of one new TLS connection through SNI proxies running as processes, side by side in one run: proxy CPU
 * (utime+stime of the process from {@code /proc/PID/stat}) per 1000 connections in alternating rounds, then system
 * calls per connection by name ({@code strace -c -f} attached for one batch). Each connection is fresh: connect,
 * a full TLS handshake with the loopback backend through the proxy, a small request, the answer read until the
 * backend closes. Usage:
 * {@code ConnectionCost CONNECTIONS ROUNDS CONCURRENCY LABEL=COMMAND...}, where a command may hold {@code {listen}}
 * (127.0.0.1:port), {@code {routes}} (an sni.yaml routing 10000.fate.org to the backend) and {@code {haproxy}}
 * (an HAProxy configuration listening on {@code {listen}}). Run by {@code benchmarks/syscalls-per-connection.sh}.
 */
public final class ConnectionCost {
    private static final String NAME = "10000.fate.org";
    private static final byte[] ANSWER = ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            .getBytes(StandardCharsets.US_ASCII);

    private ConnectionCost() {}

    private record Proxy(String label, Process process, int port) {}

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[1]);
        int concurrency = Integer.parseInt(args[2]);
        TlsMaterial tls = CertificateAuthority.builder().commonName("bench CA").create()
                .issue(CertificateRequest.server(NAME)).tlsMaterial();
        SSLServerSocket backend = (SSLServerSocket) tls.serverContext(ClientAuth.NONE).getServerSocketFactory()
                .createServerSocket(0, 1024, InetAddress.getLoopbackAddress());
        ExecutorService served = Executors.newCachedThreadPool(r -> daemon(r, "backend"));
        Thread accept = daemon(() -> serve(backend, served), "backend-accept");
        accept.start();
        Path dir = Files.createTempDirectory("connection-cost");
        Path routes = dir.resolve("sni.yaml");
        Files.writeString(routes, "sni:\n  - fqdn: " + NAME + "\n    tunnel_route: 127.0.0.1:" + backend.getLocalPort()
                + "\n");
        SSLSocketFactory client = tls.clientContext().getSocketFactory();
        ExecutorService clients = Executors.newFixedThreadPool(concurrency, r -> daemon(r, "client"));
        List<Proxy> proxies = new ArrayList<>();
        try {
            for (int i = 3; i < args.length; i++) {
                proxies.add(start(args[i], dir, routes, backend.getLocalPort()));
            }
            for (Proxy p : proxies) {
                run(client, clients, p.port, Math.max(n, 2000), concurrency); // warm-up: JIT, pools
            }
            Map<String, double[]> cpu = new LinkedHashMap<>();
            Map<String, double[]> loops = new LinkedHashMap<>();
            Map<String, double[]> user = new LinkedHashMap<>();
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < proxies.size(); k++) {
                    Proxy p = proxies.get((r + k) % proxies.size()); // rotating order
                    long before = cpuMillis(p.process.pid(), "");
                    long loopsBefore = cpuMillis(p.process.pid(), "fedlink-sni-loo");
                    long userBefore = userMillis(p.process.pid());
                    run(client, clients, p.port, n, concurrency);
                    double per1000 = (cpuMillis(p.process.pid(), "") - before) * 1000.0 / n;
                    cpu.computeIfAbsent(p.label, x -> new double[rounds])[r] = per1000;
                    loops.computeIfAbsent(p.label, x -> new double[rounds])[r] =
                            (cpuMillis(p.process.pid(), "fedlink-sni-loo") - loopsBefore) * 1000.0 / n;
                    user.computeIfAbsent(p.label, x -> new double[rounds])[r] =
                            (userMillis(p.process.pid()) - userBefore) * 1000.0 / n;
                    System.out.printf("round %d %-10s %6.0f ms CPU / 1000 connections%n", r, p.label, per1000);
                }
            }
            System.out.println("\nproxy CPU ms per 1000 new TLS connections: median (min-max) of " + rounds
                    + " rounds of " + n + " connections, " + concurrency + " at a time; the median of the round's"
                    + " ratio to " + proxies.get(0).label + "; the fedlink event loop threads alone");
            for (String label : cpu.keySet()) {
                System.out.printf("%-10s %6.0f (%.0f-%.0f) of which user %4.0f  ratio %.2f  loops %6.0f (%.0f-%.0f)%n",
                        label, median(cpu.get(label)), min(cpu.get(label)), max(cpu.get(label)),
                        median(user.get(label)),
                        median(ratios(cpu.get(label), cpu.get(proxies.get(0).label))), median(loops.get(label)),
                        min(loops.get(label)), max(loops.get(label)));
            }
            Map<String, Map<String, double[]>> calls = new LinkedHashMap<>();
            for (Proxy p : proxies) {
                calls.put(p.label, strace(p, dir, client, clients, n, concurrency));
            }
            printSyscalls(calls);
        } finally {
            for (Proxy p : proxies) {
                p.process.destroy();
                p.process.waitFor(10, TimeUnit.SECONDS);
            }
            clients.shutdownNow();
            backend.close();
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** The backend: a full handshake, reads the request, answers and closes (as a server with Connection: close). */
    private static void serve(ServerSocket backend, ExecutorService pool) {
        while (!backend.isClosed()) {
            try {
                Socket s = backend.accept();
                pool.execute(() -> {
                    try (s) {
                        s.setTcpNoDelay(true);
                        s.getInputStream().read(new byte[256]);
                        s.getOutputStream().write(ANSWER);
                    } catch (IOException e) {
                        // that connection ended
                    }
                });
            } catch (IOException e) {
                return;
            }
        }
    }

    private static Proxy start(String spec, Path dir, Path routes, int backendPort) throws Exception {
        String label = spec.substring(0, spec.indexOf('='));
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        String listen = "127.0.0.1:" + port;
        Path haproxy = dir.resolve(label + "-haproxy.cfg");
        Files.writeString(haproxy, "global\n  maxconn 9000\ndefaults\n  mode tcp\n  timeout connect 5s\n"
                + "  timeout client 10m\n  timeout server 10m\nfrontend sni_in\n  bind " + listen + "\n"
                + "  tcp-request inspect-delay 5s\n  tcp-request content accept if { req.ssl_hello_type 1 }\n"
                + "  use_backend be if { req.ssl_sni -i " + NAME + " }\nbackend be\n  server s1 127.0.0.1:"
                + backendPort + "\n");
        String command = spec.substring(label.length() + 1).replace("{listen}", listen)
                .replace("{routes}", routes.toString()).replace("{haproxy}", haproxy.toString());
        Process p = new ProcessBuilder("bash", "-c", "exec " + command).redirectErrorStream(true)
                .redirectOutput(dir.resolve(label + ".log").toFile()).start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                break;
            } catch (IOException e) {
                if (!p.isAlive() || System.nanoTime() - end > 0) {
                    throw new IllegalStateException(label + " did not listen on " + listen + "; see "
                            + dir.resolve(label + ".log"));
                }
                p.waitFor(50, TimeUnit.MILLISECONDS);
            }
        }
        System.out.println(label + " pid " + p.pid() + " on " + listen);
        return new Proxy(label, p, port);
    }

    /** {@code n} fresh TLS connections through the proxy on {@code port}, {@code concurrency} at a time. */
    private static void run(SSLSocketFactory factory, ExecutorService pool, int port, int n, int concurrency)
            throws Exception {
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < concurrency; c++) {
            int share = n / concurrency + (c < n % concurrency ? 1 : 0);
            done.add(pool.submit(() -> {
                for (int i = 0; i < share; i++) {
                    oneConnection(factory, port);
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
    }

    private static void oneConnection(SSLSocketFactory factory, int port) throws IOException {
        Socket plain = new Socket();
        plain.setTcpNoDelay(true);
        plain.connect(new InetSocketAddress("127.0.0.1", port));
        try (SSLSocket s = (SSLSocket) factory.createSocket(plain, NAME, port, true)) {
            s.startHandshake();
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            int got = 0;
            for (int b; (b = in.read()) >= 0; ) {
                got++;
            }
            if (got != ANSWER.length) {
                throw new IOException("answer of " + got + " bytes through port " + port);
            }
        }
    }

    /** utime + stime in milliseconds of a process's threads whose name starts with {@code thread} ("": all). */
    private static long cpuMillis(long pid, String thread) throws IOException {
        if (thread.isEmpty()) {
            return ticks(Files.readString(Path.of("/proc/" + pid + "/stat"))) * 10; // USER_HZ 100
        }
        long sum = 0;
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    if (Files.readString(t.resolve("comm")).startsWith(thread)) {
                        sum += ticks(Files.readString(t.resolve("stat")));
                    }
                } catch (IOException e) {
                    // that thread ended
                }
            }
        }
        return sum * 10;
    }

    /** utime of a process (every thread), in milliseconds. */
    private static long userMillis(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[11]) * 10;
    }

    /** Fields 14 and 15 (utime, stime) of a stat line. */
    private static long ticks(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    private static double[] ratios(double[] a, double[] base) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] / base[i];
        }
        return r;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(0);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(0);
    }

    /** System calls per connection by name (calls, errors), counted by strace attached for one batch. */
    private static Map<String, double[]> strace(Proxy p, Path dir, SSLSocketFactory client, ExecutorService clients,
            int n, int concurrency) throws Exception {
        Path out = dir.resolve(p.label + ".strace");
        boolean full = Boolean.getBoolean("cost.trace"); // the calls themselves, for a few connections
        Process s = new ProcessBuilder("strace", full ? "-tt" : "-c", "-f", "-p", Long.toString(p.process.pid()),
                "-o", out.toString()).redirectErrorStream(true).start();
        BufferedReader said = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        for (String line; (line = said.readLine()) != null && !line.contains("attached"); ) {
            System.out.println("strace: " + line);
        }
        run(client, clients, p.port, n, concurrency);
        new ProcessBuilder("kill", "-INT", Long.toString(s.pid())).start().waitFor();
        s.waitFor(30, TimeUnit.SECONDS);
        if (full) {
            System.out.println("trace of " + p.label + " in " + out);
            return Map.of();
        }
        Map<String, double[]> calls = new TreeMap<>();
        for (String line : Files.readAllLines(out)) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 5 && f[0].matches("[0-9.]+") && !f[f.length - 1].equals("total")) {
                boolean errors = f.length == 6;
                calls.put(f[f.length - 1], new double[] {Long.parseLong(f[3]) / (double) n,
                        errors ? Long.parseLong(f[4]) / (double) n : 0});
            }
        }
        return calls;
    }

    private static void printSyscalls(Map<String, Map<String, double[]>> calls) {
        System.out.println("\nsystem calls per connection, by name (errors in brackets; whole process, strace -c -f)");
        TreeMap<String, Boolean> names = new TreeMap<>();
        calls.values().forEach(m -> m.keySet().forEach(k -> names.put(k, true)));
        StringBuilder head = new StringBuilder(String.format("%-16s", "syscall"));
        calls.keySet().forEach(l -> head.append(String.format(" %16s", l)));
        System.out.println(head);
        double[] total = new double[calls.size()];
        for (String name : names.keySet()) {
            StringBuilder row = new StringBuilder(String.format("%-16s", name));
            boolean shown = false;
            int i = 0;
            for (Map<String, double[]> m : calls.values()) {
                double[] v = m.getOrDefault(name, new double[2]);
                total[i++] += v[0];
                shown |= v[0] >= 0.01;
                row.append(String.format(" %16s", v[1] >= 0.01 ? String.format("%.2f (%.2f)", v[0], v[1])
                        : String.format("%.2f", v[0])));
            }
            if (shown) {
                System.out.println(row);
            }
        }
        StringBuilder row = new StringBuilder(String.format("%-16s", "total"));
        for (double t : total) {
            row.append(String.format(" %16.2f", t));
        }
        System.out.println(row);
    }
}
