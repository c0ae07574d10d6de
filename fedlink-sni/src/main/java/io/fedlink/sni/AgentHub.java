package io.fedlink.sni;

import io.fedlink.api.AgentListenerConfig;
import io.fedlink.api.AgentStatus;
import io.fedlink.api.ClientAuth;
import io.fedlink.api.PartyIds;
import io.fedlink.api.PartyRoute;
import io.fedlink.api.RouteTable;
import io.fedlink.api.TlsMaterial;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's side of party agents ({@link AgentProtocol}): accepts their control and data connections on one port,
 * knows which agents of which party are connected and which idle data connections each holds, and hands one to a
 * connection whose route is {@link PartyRoute#viaAgent() served by an agent} ({@link #claim}).
 *
 * <p>Trust: a control connection is accepted only with a certificate the federation CA issued and did not revoke,
 * naming exactly one party ({@link #partyOf}), and only while a route in force sends connections to that party's
 * agent; a data connection only with a token its party's control connection announced (single use, expires). An
 * agent is cut off (its control and idle data connections closed) within a second of its route leaving the table
 * or its certificate appearing in a reloaded CRL. The agent, not the proxy, decides where its tunnels go: the proxy
 * cannot make it connect anywhere but its one configured target.
 *
 * <p>Threads: one acceptor, one short-lived thread per connection awaiting its first bytes (at most
 * {@link AgentListenerConfig#maxPendingConnections()}, each bounded by the handshake deadline), one thread per
 * connected agent reading its control lines, and one sweeper. Event loops only call {@link #claim}, which never
 * blocks.
 */
final class AgentHub implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AgentHub.class);
    private static final String EKU_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    /** Connections awaiting their first bytes from one source address: one address cannot take every slot. */
    static final int PENDING_PER_ADDRESS = 8;

    /** Why an agent connection was refused or cut off; counted by reason. */
    enum Refusal {
        /** Too many connections awaiting their first bytes. */
        PENDING_LIMIT,
        /** The first bytes did not arrive before the handshake deadline. */
        HANDSHAKE_TIMEOUT,
        /** The TLS handshake failed (no certificate, not issued by the federation CA, revoked, old protocol). */
        TLS_FAILED,
        /** The certificate does not name exactly one party. */
        NOT_A_PARTY,
        /** No route in force sends connections to this party's agent. */
        NO_AGENT_ROUTE,
        /** {@code maxAgents} agents were connected. */
        AGENT_LIMIT,
        /** A data connection's token was not announced by a connected agent (or was used already). */
        BAD_TOKEN,
        /** Bytes that are neither TLS nor a data connection, or a control line breaking the protocol. */
        PROTOCOL,
        /** An agent announced more data connections than its pool may hold. */
        POOL_LIMIT,
        /** The agent's certificate was revoked or its route removed while it was connected. */
        CUT_OFF
    }

    private final AgentListenerConfig config;
    private final Supplier<RouteTable> routes;
    private final ServerSocketChannel server;
    private final InetSocketAddress localAddress;
    private final Thread acceptor;
    private final ExecutorService workers;
    private final ScheduledExecutorService sweeper;
    private final Semaphore pending;
    private final Map<java.net.InetAddress, Integer> pendingByAddress = new ConcurrentHashMap<>();
    private final AtomicInteger sessionCount = new AtomicInteger();
    private final Map<String, Party> parties = new ConcurrentHashMap<>();
    /** Announced tokens (as hex) by the session that announced them; guarded by itself. */
    private final Map<String, Announced> tokens = new HashMap<>();
    private final Map<Refusal, LongAdder> refused = new EnumMap<>(Refusal.class);
    private final LongAdder handed = new LongAdder();
    private final RateLimitedLog refusalLog = new RateLimitedLog(log);
    private volatile boolean closed;
    private long tlsGeneration;

    private record Announced(Session session, long atNanos) {}

    AgentHub(AgentListenerConfig config, Supplier<RouteTable> routes, int port) throws IOException {
        this.config = config;
        this.routes = routes;
        for (Refusal r : Refusal.values()) {
            refused.put(r, new LongAdder());
        }
        this.pending = new Semaphore(config.maxPendingConnections());
        this.server = ServerSocketChannel.open();
        try {
            server.bind(config.bindAddress(), 128);
            this.localAddress = (InetSocketAddress) server.getLocalAddress();
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen for agents on " + config.bindAddress() + ": " + e.getMessage(), e);
        }
        String name = "fedlink-agents-" + port;
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newCachedThreadPool(r -> daemon(r, name + "-" + n.incrementAndGet()));
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, name + "-sweeper"));
        this.tlsGeneration = config.tls().generation();
        this.acceptor = daemon(this::acceptLoop, name + "-accept");
        acceptor.start();
        sweeper.scheduleWithFixedDelay(this::sweep, 1, 1, TimeUnit.SECONDS);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    InetSocketAddress localAddress() {
        return localAddress;
    }

    // ---- claiming (event loops) -------------------------------------------------------------------------------------

    /** A pending hand-over of a data connection to a connection waiting on an event loop. */
    static final class Claim {
        private final Loop loop;
        private final Connection owner;
        private final Consumer<Link> take;
        private Link ready; // set when one was free at once

        private Claim(Loop loop, Connection owner, Consumer<Link> take) {
            this.loop = loop;
            this.owner = owner;
            this.take = take;
        }

        /** A data connection available at once, or {@code null}: then {@code take} is called later, on the loop. */
        Link ready() {
            return ready;
        }

        /** On the claimant's loop: hands over {@code ch} (as the owner's link), or {@code null} when none will come. */
        private void handOver(SocketChannel ch) {
            loop.execute(() -> take.accept(ch == null ? null : loop.agentLink(ch, owner)));
        }
    }

    /**
     * Asks for a data connection of {@code party}'s agents for {@code owner}, on {@code loop}. Returns {@code null}
     * when no agent of the party is connected (refuse at once). Otherwise the claim holds a connection
     * {@link Claim#ready() ready} now (a link of the owner's), or {@code take} is later run on the loop with one, or
     * with {@code null} when the party's last agent left. Whoever receives a link it no longer wants must close it.
     * Never blocks.
     */
    Claim claim(String party, Loop loop, Connection owner, Consumer<Link> take) {
        Party p = parties.get(party);
        if (p == null) {
            return null;
        }
        synchronized (p) {
            if (p.sessions.isEmpty()) {
                return null;
            }
            Claim c = new Claim(loop, owner, take);
            SocketChannel idle = p.takeIdle();
            if (idle != null) {
                c.ready = loop.agentLink(idle, owner);
                handed.increment();
            } else {
                p.waiters.add(c);
            }
            return c;
        }
    }

    /**
     * Withdraws a claim whose connection gave up (deadline, shutdown). A connection handed to it meanwhile still
     * reaches {@code take}, which closes it.
     */
    void cancel(String party, Claim c) {
        Party p = parties.get(party);
        if (p != null) {
            synchronized (p) {
                p.waiters.remove(c);
            }
        }
    }

    // ---- state --------------------------------------------------------------------------------------------------------

    /** The agents of one party: their sessions and the connections waiting for one of their data connections. */
    private static final class Party {
        final String id;
        final List<Session> sessions = new ArrayList<>();
        final ArrayDeque<Claim> waiters = new ArrayDeque<>();
        private int next;

        Party(String id) {
            this.id = id;
        }

        /** The newest idle data connection, taken round robin over the sessions; guarded by this. */
        SocketChannel takeIdle() {
            int n = sessions.size();
            for (int k = 0; k < n; k++) {
                Session s = sessions.get(Math.floorMod(next++, n));
                Idle idle = s.idle.pollLast();
                if (idle != null) {
                    s.tunnels.incrementAndGet();
                    return idle.channel;
                }
            }
            return null;
        }
    }

    private record Idle(SocketChannel channel, long sinceNanos) {}

    /** One connected agent: its control connection and its idle data connections (guarded by its party). */
    private final class Session {
        final Party party;
        final SSLSocket socket;
        final X509Certificate certificate;
        final InetSocketAddress remote;
        final Instant connectedAt = Instant.now();
        final ArrayDeque<Idle> idle = new ArrayDeque<>();
        final AtomicLong tunnels = new AtomicLong();
        int announced; // tokens announced and not yet used; guarded by the party
        volatile boolean ended;

        Session(Party party, SSLSocket socket, X509Certificate certificate, InetSocketAddress remote) {
            this.party = party;
            this.socket = socket;
            this.certificate = certificate;
            this.remote = remote;
        }

        AgentStatus status() {
            synchronized (party) {
                return new AgentStatus(party.id, remote, connectedAt, idle.size(), tunnels.get());
            }
        }
    }

    List<AgentStatus> agents() {
        List<AgentStatus> out = new ArrayList<>();
        for (Party p : parties.values()) {
            List<Session> list;
            synchronized (p) {
                list = new ArrayList<>(p.sessions);
            }
            list.forEach(s -> out.add(s.status()));
        }
        out.sort(java.util.Comparator.comparing(AgentStatus::party).thenComparing(AgentStatus::connectedAt));
        return out;
    }

    /** Refusals by reason name (lower case) since start. */
    Map<String, Long> refusals() {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        refused.forEach((r, n) -> out.put(r.name().toLowerCase(Locale.ROOT), n.sum()));
        return out;
    }

    /** Data connections handed to tunnels since start. */
    long handed() {
        return handed.sum();
    }

    // ---- accepting ----------------------------------------------------------------------------------------------------

    private void acceptLoop() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                log.warn("accepting agents on {} failed: {}; retrying in 1 s", localAddress, e.toString());
                pause(1000);
                continue;
            }
            java.net.InetAddress from = remoteOf(ch).getAddress();
            if (!enterPending(from)) {
                refuse(remoteOf(ch), ch, Refusal.PENDING_LIMIT, PENDING_PER_ADDRESS + " connections from this address"
                        + " are awaiting their first bytes");
                continue;
            }
            if (!pending.tryAcquire()) {
                leavePending(from);
                refuse(remoteOf(ch), ch, Refusal.PENDING_LIMIT, config.maxPendingConnections() + " agent connections"
                        + " are awaiting their first bytes");
                continue;
            }
            try {
                workers.execute(() -> {
                    Session session;
                    try {
                        session = firstBytes(ch);
                    } finally {
                        pending.release();
                        leavePending(from);
                    }
                    if (session != null) {
                        serve(session);
                    }
                });
            } catch (RejectedExecutionException e) {
                pending.release();
                leavePending(from);
                closeQuietly(ch);
            }
        }
    }

    private boolean enterPending(java.net.InetAddress from) {
        boolean[] admitted = {false};
        pendingByAddress.compute(from, (k, n) -> {
            int now = n == null ? 0 : n;
            if (now >= PENDING_PER_ADDRESS) {
                return n;
            }
            admitted[0] = true;
            return now + 1;
        });
        return admitted[0];
    }

    private void leavePending(java.net.InetAddress from) {
        pendingByAddress.computeIfPresent(from, (k, n) -> n <= 1 ? null : n - 1);
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Reads the first bytes within the handshake deadline and goes on as a data connection (pooled or handed over)
     * or a control connection (returned, to be served; {@code null} otherwise).
     */
    private Session firstBytes(SocketChannel ch) {
        InetSocketAddress remote = remoteOf(ch);
        java.util.concurrent.atomic.AtomicBoolean timedOut = new java.util.concurrent.atomic.AtomicBoolean();
        ScheduledFuture<?> watchdog = sweeper.schedule(() -> {
            timedOut.set(true);
            closeQuietly(ch);
        }, config.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        long deadline = System.nanoTime() + config.handshakeTimeout().toNanos();
        Session session = null;
        try {
            Socket s = ch.socket();
            s.setSoTimeout((int) config.handshakeTimeout().toMillis());
            s.setTcpNoDelay(true);
            InputStream in = s.getInputStream();
            byte[] first = in.readNBytes(AgentProtocol.DATA_MAGIC.length);
            if (first.length > 0 && (first[0] & 0xff) == AgentProtocol.TLS_HANDSHAKE) {
                session = control(ch, s, first, remote);
            } else if (Arrays.equals(first, AgentProtocol.DATA_MAGIC)) {
                byte[] token = in.readNBytes(AgentProtocol.TOKEN_BYTES);
                if (token.length != AgentProtocol.TOKEN_BYTES) {
                    refuse(remote, ch, Refusal.PROTOCOL, "data connection closed inside its token");
                    return null;
                }
                data(ch, token, remote, deadline);
            } else {
                refuse(remote, ch, Refusal.PROTOCOL, first.length == 0 ? "closed before sending anything"
                        : "neither a TLS handshake nor a data connection");
            }
        } catch (java.net.SocketTimeoutException | java.nio.channels.ClosedChannelException e) {
            refuse(remote, ch, Refusal.HANDSHAKE_TIMEOUT, "nothing complete within " + config.handshakeTimeout());
        } catch (javax.net.ssl.SSLException e) {
            refuse(remote, ch, Refusal.TLS_FAILED, "TLS handshake failed: " + e.getMessage());
        } catch (AgentProtocol.ProtocolException e) {
            refuse(remote, ch, Refusal.PROTOCOL, e.getMessage());
        } catch (IOException | RuntimeException e) { // the watchdog closed it, or the peer reset it
            refuse(remote, ch, timedOut.get() ? Refusal.HANDSHAKE_TIMEOUT : Refusal.PROTOCOL, e.toString());
        } finally {
            watchdog.cancel(false);
        }
        return session;
    }

    /** Handshake, identity and admission of a control connection; {@code null} when refused. */
    private Session control(SocketChannel ch, Socket s, byte[] first, InetSocketAddress remote) throws IOException {
        TlsMaterial material = config.tls().current();
        SSLContext context = material.serverContext(ClientAuth.REQUIRED);
        SSLSocket ssl = (SSLSocket) context.getSocketFactory().createSocket(s, new ByteArrayInputStream(first), true);
        ssl.setUseClientMode(false);
        ssl.setNeedClientAuth(true);
        ssl.startHandshake();
        X509Certificate cert = (X509Certificate) ssl.getSession().getPeerCertificates()[0];
        String party = partyOf(cert, config.partyDomain());
        OutputStream out = ssl.getOutputStream();
        AgentProtocol.Line hello = AgentProtocol.fromAgent(requireLine(ssl.getInputStream()));
        if (!hello.verb().equals("AGENT") || !hello.arg().equals(String.valueOf(AgentProtocol.VERSION))) {
            no(out, "this proxy speaks agent protocol " + AgentProtocol.VERSION);
            refuse(remote, ch, Refusal.PROTOCOL, "first line was " + hello.verb() + " " + hello.arg());
            return null;
        }
        if (party == null) {
            no(out, "the certificate does not name exactly one party of "
                    + config.partyDomain());
            refuse(remote, ch, Refusal.NOT_A_PARTY, "certificate " + cert.getSubjectX500Principal().getName()
                    + " names no single party of " + config.partyDomain());
            return null;
        }
        if (!routes.get().agentParties().contains(party)) {
            no(out, "no route sends connections to the agent of party " + party);
            refuse(remote, ch, Refusal.NO_AGENT_ROUTE, "party " + party + ": no route is served by its agent");
            return null;
        }
        if (sessionCount.incrementAndGet() > config.maxAgents()) {
            sessionCount.decrementAndGet();
            no(out, "the proxy has its limit of " + config.maxAgents() + " agents");
            refuse(remote, ch, Refusal.AGENT_LIMIT, "party " + party + ": " + config.maxAgents() + " agents connected");
            return null;
        }
        ssl.setSoTimeout((int) config.keepAliveTimeout().toMillis());
        Party p = parties.computeIfAbsent(party, Party::new);
        Session session = new Session(p, ssl, cert, remote);
        boolean full;
        synchronized (p) { // no I/O under the party's lock: event loops take it to claim
            full = p.sessions.size() >= config.maxAgentsPerParty();
            if (!full) {
                p.sessions.add(session);
            }
        }
        if (full) {
            sessionCount.decrementAndGet();
            no(out, "party " + party + " has its limit of " + config.maxAgentsPerParty() + " agents here");
            refuse(remote, ch, Refusal.AGENT_LIMIT, "party " + party + ": " + config.maxAgentsPerParty()
                    + " agents connected");
            return null;
        }
        AgentProtocol.writeLine(out, "OK " + party + " " + config.maxPoolPerAgent());
        log.info("agent of party {} connected from {}", party, remote);
        return session;
    }

    /** Sends a refusal line, cut to the line limit (a long domain name must not turn a refusal into a failure). */
    private static void no(OutputStream out, String reason) throws IOException {
        String line = "NO " + reason;
        AgentProtocol.writeLine(out, line.length() < AgentProtocol.MAX_LINE ? line
                : line.substring(0, AgentProtocol.MAX_LINE - 1));
    }

    private static String requireLine(InputStream in) throws IOException {
        String line = AgentProtocol.readLine(in);
        if (line == null) {
            throw new AgentProtocol.ProtocolException("closed before its first line");
        }
        return line;
    }

    /**
     * The party a certificate names, or {@code null}: exactly one DNS name {@code <party>.<domain>} with a valid,
     * unreserved party id, no other subject alternative name, a common name (if any) equal to that DNS name or to
     * the party id, and
     * client authentication among its extended key usages. The federation CA issues party certificates this way and
     * refuses to let a requester choose anything else, so this names the party the CA recorded.
     */
    static String partyOf(X509Certificate cert, String domain) {
        try {
            List<String> eku = cert.getExtendedKeyUsage();
            if (eku == null || !eku.contains(EKU_CLIENT_AUTH)) {
                return null;
            }
            Collection<List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans == null || sans.size() != 1) {
                return null;
            }
            List<?> san = sans.iterator().next();
            if (!Integer.valueOf(2).equals(san.get(0)) || !(san.get(1) instanceof String dns)) {
                return null;
            }
            String name = dns.toLowerCase(Locale.ROOT);
            String suffix = "." + domain;
            if (!name.endsWith(suffix)) {
                return null;
            }
            String id = name.substring(0, name.length() - suffix.length());
            if (!PartyIds.isValid(id) || PartyIds.isReserved(id) || !id.equals(id.toLowerCase(Locale.ROOT))) {
                return null;
            }
            String cn = commonName(cert);
            return cn == null || cn.equalsIgnoreCase(id) || cn.equalsIgnoreCase(name) ? id : null;
        } catch (CertificateParsingException e) {
            return null;
        }
    }

    private static String commonName(X509Certificate cert) {
        try {
            javax.naming.ldap.LdapName dn = new javax.naming.ldap.LdapName(
                    cert.getSubjectX500Principal().getName(javax.security.auth.x500.X500Principal.RFC2253));
            String cn = null;
            for (javax.naming.ldap.Rdn rdn : dn.getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    if (cn != null) {
                        return "\u0000two common names";
                    }
                    cn = String.valueOf(rdn.getValue());
                }
            }
            return cn;
        } catch (javax.naming.InvalidNameException e) {
            return "\u0000unparsable subject";
        }
    }

    /** Reads one agent's control lines until it leaves, breaks the protocol, or goes silent. */
    private void serve(Session session) {
        String why = "closed the connection";
        try {
            InputStream in = session.socket.getInputStream();
            OutputStream out = session.socket.getOutputStream();
            String line;
            while ((line = AgentProtocol.readLine(in)) != null) {
                AgentProtocol.Line l = AgentProtocol.fromAgent(line);
                switch (l.verb()) {
                    case "PING" -> AgentProtocol.writeLine(out, "PONG");
                    case "TOKEN" -> announce(session, l.arg());
                    default -> throw new AgentProtocol.ProtocolException(l.verb() + " after the first line");
                }
            }
        } catch (java.net.SocketTimeoutException e) {
            why = "was silent for " + config.keepAliveTimeout();
        } catch (AgentProtocol.ProtocolException e) {
            count(session.remote, Refusal.PROTOCOL, "party " + session.party.id + ": " + e.getMessage());
            why = "broke the protocol";
        } catch (IOException e) {
            why = session.ended ? "was cut off" : "failed: " + e.getMessage();
        }
        end(session, why);
    }

    private void announce(Session session, String hex) throws AgentProtocol.ProtocolException {
        AgentProtocol.token(hex); // validated again: only well-formed tokens are kept
        Party p = session.party;
        synchronized (p) {
            if (session.announced + session.idle.size() >= config.maxPoolPerAgent()) {
                count(session.remote, Refusal.POOL_LIMIT, "party " + p.id + ": more than "
                        + config.maxPoolPerAgent() + " data connections");
                throw new AgentProtocol.ProtocolException("more data connections than the pool of "
                        + config.maxPoolPerAgent());
            }
            session.announced++;
        }
        synchronized (tokens) {
            if (tokens.putIfAbsent(hex, new Announced(session, System.nanoTime())) != null) {
                throw new AgentProtocol.ProtocolException("a token announced twice");
            }
            tokens.notifyAll();
        }
    }

    /** A data connection: its token must have been announced (it may still be on its way on the control line). */
    private void data(SocketChannel ch, byte[] token, InetSocketAddress remote, long deadline) throws IOException {
        String hex = AgentProtocol.hex(token);
        Announced a;
        synchronized (tokens) {
            while ((a = tokens.remove(hex)) == null && !closed) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    break;
                }
                try {
                    tokens.wait(Math.min(left, 100));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        if (a == null || a.session.ended) {
            refuse(remote, ch, Refusal.BAD_TOKEN, "data connection with a token no connected agent announced");
            return;
        }
        ch.configureBlocking(false);
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        Session s = a.session;
        Party p = s.party;
        Claim waiting;
        synchronized (p) {
            s.announced--;
            if (s.ended) {
                closeQuietly(ch);
                return;
            }
            waiting = p.waiters.poll();
            if (waiting == null) {
                s.idle.addLast(new Idle(ch, System.nanoTime()));
                return;
            }
            s.tunnels.incrementAndGet();
        }
        handed.increment();
        waiting.handOver(ch);
    }

    // ---- ending ---------------------------------------------------------------------------------------------------------

    private void end(Session session, String why) {
        Party p = session.party;
        List<Claim> orphaned = List.of();
        List<Idle> idle;
        synchronized (p) {
            if (!p.sessions.remove(session)) {
                return;
            }
            session.ended = true;
            idle = new ArrayList<>(session.idle);
            session.idle.clear();
            if (p.sessions.isEmpty()) {
                orphaned = new ArrayList<>(p.waiters);
                p.waiters.clear();
            }
        }
        sessionCount.decrementAndGet();
        synchronized (tokens) {
            tokens.values().removeIf(a -> a.session == session);
        }
        idle.forEach(i -> closeQuietly(i.channel));
        closeQuietly(session.socket);
        for (Claim c : orphaned) {
            c.handOver(null);
        }
        log.info("agent of party {} from {} {}; {} left for the party", p.id, session.remote, why,
                p.sessions.size());
    }

    /** Every second: idle data connections past their age, stale tokens, and agents no longer entitled. */
    private void sweep() {
        try {
            long now = System.nanoTime();
            long maxIdle = config.poolMaxIdle().toNanos();
            RouteTable table = routes.get();
            long generation = config.tls().generation();
            List<X509CRL> crls = generation != tlsGeneration ? config.tls().current().crls() : null;
            tlsGeneration = generation;
            List<Session> cut = new ArrayList<>();
            for (Party p : parties.values()) {
                List<SocketChannel> stale = new ArrayList<>();
                boolean entitled = table.agentParties().contains(p.id);
                synchronized (p) {
                    for (Session s : p.sessions) {
                        for (Iterator<Idle> it = s.idle.iterator(); it.hasNext(); ) {
                            Idle i = it.next();
                            if (now - i.sinceNanos > maxIdle) {
                                it.remove();
                                stale.add(i.channel);
                            }
                        }
                        if (!entitled || crls != null && revoked(s.certificate, crls)) {
                            cut.add(s);
                        }
                    }
                }
                stale.forEach(AgentHub::closeQuietly);
            }
            long tokenAge = config.handshakeTimeout().toNanos();
            synchronized (tokens) {
                tokens.entrySet().removeIf(e -> {
                    if (now - e.getValue().atNanos > tokenAge) {
                        Session s = e.getValue().session;
                        synchronized (s.party) {
                            s.announced--;
                        }
                        return true;
                    }
                    return false;
                });
            }
            for (Session s : cut) {
                count(s.remote, Refusal.CUT_OFF, "party " + s.party.id + ": its route was removed or its"
                        + " certificate revoked; agent disconnected");
                s.ended = true;
                end(s, "was cut off (route removed or certificate revoked)");
            }
        } catch (Throwable t) { // never let the sweeper die
            log.warn("agent sweep failed: {}", t.toString());
        }
    }

    private static boolean revoked(X509Certificate cert, List<X509CRL> crls) {
        for (X509CRL crl : crls) {
            if (crl.getIssuerX500Principal().equals(cert.getIssuerX500Principal()) && crl.isRevoked(cert)) {
                return true;
            }
        }
        return false;
    }

    private void refuse(InetSocketAddress remote, SocketChannel ch, Refusal reason, String detail) {
        closeQuietly(ch);
        count(remote, reason, detail);
    }

    private void count(InetSocketAddress remote, Refusal reason, String detail) {
        refused.get(reason).increment();
        refusalLog.info("agent connection from {} refused ({}): {}", remote, reason.name().toLowerCase(Locale.ROOT),
                detail);
    }

    private static InetSocketAddress remoteOf(SocketChannel ch) {
        try {
            return (InetSocketAddress) ch.getRemoteAddress();
        } catch (IOException e) {
            return new InetSocketAddress(0);
        }
    }

    static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        synchronized (tokens) {
            tokens.notifyAll();
        }
        for (Party p : parties.values()) {
            List<Session> list;
            synchronized (p) {
                list = new ArrayList<>(p.sessions);
            }
            list.forEach(s -> end(s, "was disconnected: the proxy is shutting down"));
        }
        sweeper.shutdownNow();
        workers.shutdownNow();
    }
}
