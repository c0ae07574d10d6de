package io.fedlink.sni;

import io.fedlink.api.Endpoint;
import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.api.TlsMaterial;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A party agent: runs beside a party's broker, dials <em>out</em> to one or more fedlink proxies with the party's own
 * certificate, and carries the tunnels they hand it to one fixed local {@link Builder#target(Endpoint) target}, so
 * the party opens no inbound port. The client's TLS session runs end to end through the proxy and the agent to the
 * broker; neither holds its keys.
 *
 * <pre>{@code
 * Agent agent = Agent.builder()
 *         .proxy(Endpoint.parse("proxy.fate.org:7443"))
 *         .tls(partyMaterial)                     // the party's certificate and key, the federation CA
 *         .target(Endpoint.parse("127.0.0.1:6651"))
 *         .start();
 * }</pre>
 *
 * <p>For each proxy the agent keeps a control connection (mutual TLS, the proxy's certificate verified against the
 * federation CA and, by default, its host name) and a pool of idle data connections ({@link Builder#pool(int)}),
 * each announced with a single-use random token; the proxy hands one to each new tunnel and the agent opens a
 * replacement at once. A lost or refused control connection is retried with exponential backoff and jitter
 * (0.5 s doubling up to 30 s). The proxy cannot steer the agent anywhere but its target: whatever the proxy sends
 * goes to the target, and only there.
 *
 * <p>See {@link AgentProtocol} for the wire format.
 */
public final class Agent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    /** Per-tunnel failures (target down, tunnel limit) repeat with every tunnel the proxy hands over. */
    private final RateLimitedLog tunnelLog = new RateLimitedLog(log);
    private static final int RELAY_BUFFER = 64 * 1024;

    private final List<Endpoint> proxies;
    private final ReloadableTlsMaterial tls;
    private final Endpoint target;
    private final int pool;
    private final Duration connectTimeout;
    private final Duration pingInterval;
    private final int maxTunnels;
    private final ExecutorService workers;
    private final ScheduledExecutorService timer;
    private final SecureRandom random = new SecureRandom();
    private final List<Link> links = new ArrayList<>();
    private final AtomicInteger tunnels = new AtomicInteger();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private Agent(Builder b) {
        if (b.proxies.isEmpty()) {
            throw new IllegalArgumentException("an agent needs at least one proxy to dial");
        }
        this.proxies = List.copyOf(b.proxies);
        this.tls = Objects.requireNonNull(b.tls, "tls: the party's certificate and key and the federation CA");
        if (!tls.current().hasIdentity()) {
            throw new IllegalArgumentException("an agent needs the party's certificate and key, not only trust anchors");
        }
        tls.current().trustManager(); // fails now, naming the problem, when there is no CA to verify proxies with
        this.target = Objects.requireNonNull(b.target, "target: the local broker address, e.g. 127.0.0.1:6651");
        if (b.pool < 1 || b.pool > 1024) {
            throw new IllegalArgumentException("pool must be 1..1024 idle data connections per proxy, was " + b.pool);
        }
        this.pool = b.pool;
        this.connectTimeout = b.connectTimeout;
        this.pingInterval = b.pingInterval;
        if (b.maxTunnels < 1) {
            throw new IllegalArgumentException("maxTunnels must be at least 1, was " + b.maxTunnels);
        }
        this.maxTunnels = b.maxTunnels;
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newCachedThreadPool(r -> daemon(r, "fedlink-agent-" + n.incrementAndGet()));
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "fedlink-agent-timer"));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Starts an agent configuration. */
    public static Builder builder() {
        return new Builder();
    }

    /** Dials every proxy (in the background; see {@link #status()}). */
    private Agent start() {
        for (Endpoint p : proxies) {
            Link l = new Link(p);
            links.add(l);
            workers.execute(l::run);
        }
        return this;
    }

    /**
     * The state of the link to one proxy.
     *
     * @param proxy     the proxy dialled
     * @param connected whether the control connection is up and accepted
     * @param party     the party the proxy accepted this agent as ({@code null} before)
     * @param idle      idle data connections open to that proxy now
     * @param tunnels   tunnels the proxy handed over this link since start
     * @param problem   the last failure or refusal, or {@code null}
     */
    public record LinkStatus(Endpoint proxy, boolean connected, String party, int idle, long tunnels,
                             String problem) {}

    /** One status per proxy, in the order given. */
    public List<LinkStatus> status() {
        return links.stream().map(Link::status).toList();
    }

    /** Tunnels open now, over all proxies. */
    public int openTunnels() {
        return tunnels.get();
    }

    /** Closes the control and data connections and every open tunnel. */
    @Override
    public void close() {
        closed = true;
        for (Link l : links) {
            l.stop();
        }
        for (Socket s : open) {
            abort(s);
        }
        timer.shutdownNow();
        workers.shutdownNow();
    }

    // ---- one proxy ---------------------------------------------------------------------------------------------------

    private final class Link {
        final Endpoint proxy;
        private final Set<Socket> idle = ConcurrentHashMap.newKeySet();
        private final AtomicLong handed = new AtomicLong();
        private volatile SSLSocket control;
        private volatile String party;
        private volatile String problem;
        private volatile int poolSize;
        private volatile long session; // generation: data connections of an ended session are not replaced
        private int failures;

        Link(Endpoint proxy) {
            this.proxy = proxy;
        }

        LinkStatus status() {
            SSLSocket c = control;
            return new LinkStatus(proxy, c != null && party != null, party, idle.size(), handed.get(), problem);
        }

        void run() {
            while (!closed) {
                long started = System.nanoTime();
                try {
                    session();
                    problem = "the proxy closed the control connection";
                } catch (IOException | RuntimeException e) {
                    if (!closed) {
                        String now = e.getMessage() == null ? e.toString() : e.getMessage();
                        if (!now.equals(problem)) {
                            log.warn("agent link to {}: {}", proxy, now);
                        }
                        problem = now;
                    }
                }
                if (System.nanoTime() - started > TimeUnit.SECONDS.toNanos(10)) {
                    failures = 0; // a session that lasted starts the backoff over
                }
                long base = Math.min(30_000, 500L << Math.min(failures++, 6));
                pause(base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1));
            }
        }

        private void pause(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void session() throws IOException {
            TlsMaterial material = tls.current();
            SSLSocket s = (SSLSocket) material.clientContext().getSocketFactory().createSocket();
            ScheduledFuture<?> ping = null;
            long generation = ++session;
            try {
                control = s;
                s.connect(new InetSocketAddress(proxy.host(), proxy.port()), (int) connectTimeout.toMillis());
                s.setSoTimeout((int) pingInterval.multipliedBy(3).toMillis());
                s.setTcpNoDelay(true);
                s.startHandshake();
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                send(out, "AGENT " + AgentProtocol.VERSION);
                String first = AgentProtocol.readLine(in);
                if (first == null) {
                    throw new IOException("the proxy closed the connection without answering");
                }
                AgentProtocol.Line answer = AgentProtocol.fromProxy(first);
                if (answer.verb().equals("NO")) {
                    throw new IOException("refused by the proxy: " + answer.arg());
                }
                if (!answer.verb().equals("OK")) {
                    throw new AgentProtocol.ProtocolException("expected OK or NO, got " + answer.verb());
                }
                String[] parts = answer.arg().split(" ");
                party = parts[0];
                poolSize = Math.min(pool, Integer.parseInt(parts[1]));
                problem = null;
                log.info("agent of party {} connected to {}; keeping {} idle data connections, tunnels go to {}",
                        party, proxy, poolSize, target);
                for (int i = 0; i < poolSize; i++) {
                    openData(generation, 0);
                }
                ping = timer.scheduleWithFixedDelay(() -> {
                    try {
                        send(out, "PING");
                    } catch (IOException e) {
                        abort(s);
                    }
                }, pingInterval.toMillis(), pingInterval.toMillis(), TimeUnit.MILLISECONDS);
                String line;
                while ((line = AgentProtocol.readLine(in)) != null) {
                    AgentProtocol.Line l = AgentProtocol.fromProxy(line);
                    if (l.verb().equals("NO")) {
                        throw new IOException("disconnected by the proxy: " + l.arg());
                    }
                    if (!l.verb().equals("PONG")) {
                        throw new AgentProtocol.ProtocolException("unexpected " + l.verb() + " from the proxy");
                    }
                }
            } finally {
                session++;
                party = null;
                control = null;
                if (ping != null) {
                    ping.cancel(false);
                }
                abort(s);
                for (Socket d : idle) {
                    abort(d);
                }
            }
        }

        private void send(OutputStream out, String line) throws IOException {
            synchronized (out) {
                AgentProtocol.writeLine(out, line);
            }
        }

        void stop() {
            SSLSocket c = control;
            if (c != null) {
                abort(c);
            }
        }

        /** Opens one idle data connection (after {@code delayMillis}) unless the session ended meanwhile. */
        private void openData(long generation, long delayMillis) {
            Runnable task = () -> {
                try {
                    workers.execute(() -> data(generation));
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // closing
                }
            };
            if (delayMillis <= 0) {
                task.run();
            } else {
                try {
                    timer.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // closing
                }
            }
        }

        /** One data connection: announce, open, wait to be handed a tunnel, then relay it to the target. */
        private void data(long generation) {
            SSLSocket c = control;
            if (closed || c == null || generation != session) {
                return;
            }
            byte[] token = new byte[AgentProtocol.TOKEN_BYTES];
            random.nextBytes(token);
            Socket d = new Socket();
            long opened = System.nanoTime();
            int n;
            byte[] first = new byte[RELAY_BUFFER];
            try {
                send(c.getOutputStream(), "TOKEN " + AgentProtocol.hex(token));
                d.connect(new InetSocketAddress(proxy.host(), proxy.port()), (int) connectTimeout.toMillis());
                d.setTcpNoDelay(true);
                d.setKeepAlive(true);
                idle.add(d);
                open.add(d);
                if (generation != session) {
                    throw new IOException("session ended");
                }
                d.getOutputStream().write(AgentProtocol.dataPreamble(token));
                n = d.getInputStream().read(first);
            } catch (IOException e) {
                n = -1;
            } finally {
                idle.remove(d);
            }
            if (n <= 0) { // closed before use (idle too long, or the session ended): replace it while the session lasts
                open.remove(d);
                abort(d);
                if (generation == session && !closed) {
                    long lived = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - opened);
                    openData(generation, Math.max(0, 1000 - lived)); // never faster than one a second
                }
                return;
            }
            handed.incrementAndGet();
            // The tunnel's own connect first, then the pool's replacement (its TLS line and TCP connect would
            // otherwise compete with the client's first round trip).
            tunnel(d, first, n, () -> openData(generation, 0));
        }
    }

    // ---- tunnels -----------------------------------------------------------------------------------------------------

    /**
     * Connects the handed data connection to the target and relays both ways, half-closes included; runs
     * {@code refill} once the target connect is done (or failed).
     */
    private void tunnel(Socket d, byte[] first, int n, Runnable refill) {
        if (tunnels.incrementAndGet() > maxTunnels) {
            tunnels.decrementAndGet();
            tunnelLog.warn("agent at its limit of {} tunnels; refused one", maxTunnels);
            open.remove(d);
            abort(d);
            refill.run();
            return;
        }
        Socket t = new Socket();
        open.add(t);
        try {
            t.connect(target.toSocketAddress().isUnresolved()
                    ? new InetSocketAddress(target.host(), target.port()) : target.toSocketAddress(),
                    (int) connectTimeout.toMillis());
            t.setTcpNoDelay(true);
            t.getOutputStream().write(first, 0, n);
        } catch (IOException e) {
            tunnelLog.warn("agent could not reach its target {}: {}", target, e.toString());
            end(d, t, true);
            refill.run();
            return;
        }
        refill.run();
        AtomicInteger directions = new AtomicInteger(2);
        try {
            workers.execute(() -> pump(t, d, directions, new byte[RELAY_BUFFER]));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            end(d, t, true);
            return;
        }
        pump(d, t, directions, first);
    }

    /** Copies {@code from} to {@code to} until the end of the stream, then half-closes {@code to}. */
    private void pump(Socket from, Socket to, AtomicInteger directions, byte[] buf) {
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            end(from, to, true);
        }
        if (directions.decrementAndGet() == 0) {
            end(from, to, false);
        }
    }

    private void end(Socket a, Socket b, boolean abortive) {
        boolean first = open.remove(a) | open.remove(b);
        if (abortive) {
            abort(a);
            abort(b);
        } else {
            closeQuietly(a);
            closeQuietly(b);
        }
        if (first) {
            tunnels.decrementAndGet();
        }
    }

    private static void abort(Socket s) {
        try {
            if (!s.isClosed() && s.isConnected()) {
                s.setSoLinger(true, 0);
            }
        } catch (IOException e) {
            // closing anyway
        }
        closeQuietly(s);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // nothing left to do
        }
    }

    /** Collects an agent's settings; {@link #start()} validates them and starts it. */
    public static final class Builder {
        private final List<Endpoint> proxies = new ArrayList<>();
        private ReloadableTlsMaterial tls;
        private Endpoint target;
        private int pool = 4;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration pingInterval = Duration.ofSeconds(10);
        private int maxTunnels = 1024;

        private Builder() {}

        /** Adds a proxy to dial (its agent port); give several for high availability. */
        public Builder proxy(Endpoint proxy) {
            proxies.add(Objects.requireNonNull(proxy, "proxy"));
            return this;
        }

        /** The party's certificate and key and the federation CA (the proxy's certificate is verified with it). */
        public Builder tls(TlsMaterial material) {
            return tls(ReloadableTlsMaterial.of(material));
        }

        /** As {@link #tls(TlsMaterial)}, re-read at each new control connection (certificate renewal). */
        public Builder tls(ReloadableTlsMaterial material) {
            this.tls = material;
            return this;
        }

        /** Where every tunnel goes: the party's broker, e.g. {@code 127.0.0.1:6651}. */
        public Builder target(Endpoint target) {
            this.target = target;
            return this;
        }

        /** Idle data connections kept open to each proxy (default 4; the proxy may allow fewer). */
        public Builder pool(int n) {
            this.pool = n;
            return this;
        }

        /** Time to connect to a proxy or to the target (default 5 s). */
        public Builder connectTimeout(Duration d) {
            this.connectTimeout = positive("connectTimeout", d);
            return this;
        }

        /** How often the agent pings each proxy (default 10 s); a link silent for three intervals is redialled. */
        public Builder pingInterval(Duration d) {
            this.pingInterval = positive("pingInterval", d);
            return this;
        }

        /** Most tunnels open at once (default 1024). */
        public Builder maxTunnels(int n) {
            this.maxTunnels = n;
            return this;
        }

        private static Duration positive(String what, Duration d) {
            if (d == null || d.isNegative() || d.isZero() || d.toMillis() > Integer.MAX_VALUE / 3) {
                throw new IllegalArgumentException(what + " must be positive and under a week, was " + d);
            }
            return d;
        }

        /** Validates the settings and starts dialling. */
        public Agent start() {
            return new Agent(this).start();
        }
    }
}
