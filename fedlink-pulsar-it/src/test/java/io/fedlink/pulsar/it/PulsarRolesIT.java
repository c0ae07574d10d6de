package io.fedlink.pulsar.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.PartyIds;
import io.fedlink.api.PemCodec;
import io.fedlink.api.TlsMaterial;
import io.fedlink.api.TunnelServer;
import io.fedlink.pki.CaFolder;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.EnrollmentAuthority;
import io.fedlink.pki.EnrollmentRefusedException;
import io.fedlink.pki.IssuedCertificate;
import io.fedlink.pki.KeyType;
import io.fedlink.pki.internal.Keys;
import io.fedlink.pulsar.BrokerTlsConfig;
import io.fedlink.pulsar.PartyClients;
import io.fedlink.federation.PulsarRouteTable;
import io.fedlink.api.TlsFiles;
import io.fedlink.sni.SniProxy;
import io.fedlink.sni.SniYaml;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.client.api.AuthenticationFactory;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.common.policies.data.AuthAction;
import org.apache.pulsar.common.policies.data.TenantInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 21 at a real Pulsar 4.0.7 broker: a party enrolled at the fedlink CA holds its own role and nothing else.
 * One standalone (party 8888's, a separate JVM on {@value #ADDRESS}) authenticates every client by its TLS
 * certificate ({@code AuthenticationProviderTls}: the role is the certificate's common name), authorizes every call
 * ({@code authorizationEnabled}) and has one super-user role, {@value #SUPERUSER}, a name {@link PartyIds#RESERVED}
 * keeps from every party; its own internal clients authenticate with the operator's certificate. Parties 10000 and
 * 9999 enroll with one-time tokens and CSRs at the CA ({@link EnrollmentAuthority#enroll}); 10000 first asks for
 * {@code CN=root}, {@code CN=operator} and 9999's name, all refused. Clients and admin reach the broker over TLS only,
 * with the party's certificate and hostname verification on; the binary clients through the fedlink SNI proxy, as
 * FATE's do.
 */
class PulsarRolesIT {
    static final String DOMAIN = "fate.org";
    static final String ADDRESS = "127.0.0.70";
    static final String HOST = "8888";
    static final String SUPERUSER = "operator";
    static final String TENANT = "fate";
    static final Duration OP_TIMEOUT = Duration.ofSeconds(30);
    @TempDir
    static Path dir;
    static Path caDir;
    static X509Certificate root;
    static TunnelServer proxy;
    static Broker broker;
    static TlsFiles operator;
    static final Map<String, TlsFiles> parties = new HashMap<>();
    static final List<AutoCloseable> closeAfter = new ArrayList<>();
    static double brokerReadySeconds;
    static final long T0 = System.nanoTime();

    @BeforeAll
    static void start() throws Exception {
        caDir = dir.resolve("ca");
        CaFolder.of(caDir, null).create(CertificateAuthority.builder().commonName(DOMAIN + " federation CA")
                .permitDns(DOMAIN).permitIp("127.0.0.0/8").create());
        root = CaFolder.of(caDir, null).load().root();
        // What the operator issues with 'pki cert create': its own client certificate (CN=operator) and the broker's
        // (8888's party name, plus its address for the admin calls of this test, which dial the address).
        TlsMaterial operatorTls = operatorIssues(CertificateRequest.client(SUPERUSER));
        operator = TlsFiles.write(operatorTls, dir.resolve("tls-operator"));
        TlsFiles brokerTls = TlsFiles.write(operatorIssues(CertificateRequest.party(HOST, DOMAIN).ip(ADDRESS)),
                dir.resolve("tls-broker"));

        int proxyPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            proxyPort = s.getLocalPort();
        }
        proxy = SniProxy.builder().bindLoopback(proxyPort).eventLoops(1).routes(SniYaml.parse("sni:\n  - fqdn: "
                + name(HOST) + "\n    tunnel_route: " + ADDRESS + ":6651\n")).start();
        Path conf = Files.createDirectories(dir.resolve("conf"));
        String operatorAuth = "tlsCertFile:" + operator.cert() + ",tlsKeyFile:" + operator.key();
        Files.writeString(conf.resolve("standalone-tls.conf"), BrokerTlsConfig.text(BrokerTlsConfig.lines(brokerTls,
                true)) + String.join("\n",
                "authenticationEnabled=true",
                "authenticationProviders=org.apache.pulsar.broker.authentication.AuthenticationProviderTls",
                "authorizationEnabled=true",
                "superUserRoles=" + SUPERUSER,
                // the broker's own clients (its admin client creates the standalone's namespaces) are the operator
                "brokerClientAuthenticationPlugin=org.apache.pulsar.client.impl.auth.AuthenticationTls",
                "brokerClientAuthenticationParameters=" + operatorAuth,
                "brokerClientCertificateFilePath=" + operator.cert(),
                "brokerClientKeyFilePath=" + operator.key(),
                ""));
        Path hosts = dir.resolve("hosts");
        Files.writeString(hosts, "127.0.0.1 localhost " + StarNetworkIT.localHostName() + "\n" + ADDRESS + " "
                + name(HOST) + "\n");
        broker = Broker.start(HOST, ADDRESS, dir.resolve("broker"), conf, proxyPort, hosts);

        // While the broker starts: party 9999 enrolls as a party does; 10000 enrolls in the test below.
        parties.put("9999", enroll("9999", null));
        HttpClient https = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
                .sslContext(operatorTls.clientContext()).build();
        broker.awaitReady(Duration.ofSeconds(180), https, httpsUrl());
        brokerReadySeconds = seconds();
        System.out.printf("MEASURE broker with TLS authentication ready after %.1fs%n", brokerReadySeconds);

        // The operator sets up one namespace per party, each granted to that party's role only.
        try (PulsarAdmin admin = admin(operator)) {
            admin.tenants().createTenant(TENANT, TenantInfo.builder().allowedClusters(Set.of(HOST)).build());
            for (String party : List.of("10000", "9999")) {
                admin.namespaces().createNamespace(namespace(party));
                admin.namespaces().grantPermissionOnNamespace(namespace(party), name(party),
                        EnumSet.of(AuthAction.produce, AuthAction.consume));
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        System.out.printf("MEASURE PulsarRolesIT tests done after %.1fs%n", seconds());
        for (AutoCloseable c : closeAfter) { // the clients first, while the broker answers; the proxy last
            c.close();
        }
        if (broker != null) {
            broker.kill(); // nothing to keep: no graceful shutdown (~15 s)
            broker.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        System.out.printf("MEASURE PulsarRolesIT wall time %.1fs%n", seconds());
    }

    static double seconds() {
        return (System.nanoTime() - T0) / 1e9;
    }

    static String name(String party) {
        return party + "." + DOMAIN;
    }

    static String namespace(String party) {
        return TENANT + "/only-" + party;
    }

    static String httpsUrl() {
        return "https://" + ADDRESS + ":8081";
    }

    /** A certificate the operator issues from the CA folder, as {@code fedlink pki cert create} does. */
    static TlsMaterial operatorIssues(CertificateRequest request) throws Exception {
        try (java.io.Closeable lock = CaFolder.of(caDir, null).lock()) {
            CertificateAuthority ca = CaFolder.of(caDir, null).load();
            IssuedCertificate c = ca.issue(request);
            CaFolder.of(caDir, null).saveIndex(ca);
            return c.tlsMaterial();
        }
    }

    /**
     * Enrolls {@code party} with a new one-time token and a CSR for its own name, after trying each of
     * {@code hostile} (CSR PEM text) with the same token.
     */
    static TlsFiles enroll(String party, List<String> hostile) throws Exception {
        EnrollmentAuthority authority = EnrollmentAuthority.forFolder(caDir, null, DOMAIN, null);
        String token = CaFolder.of(caDir, null).createToken(party, Duration.ofMinutes(5));
        for (String csr : hostile == null ? List.<String>of() : hostile) {
            String index = Files.readString(caDir.resolve("index.tsv"));
            EnrollmentRefusedException e = assertThrows(EnrollmentRefusedException.class,
                    () -> authority.enroll(token, csr, null));
            assertTrue(e.getMessage().contains("party " + party + " may have only CN=" + name(party) + " and DNS:"
                    + name(party)), e.getMessage());
            assertEquals(index, Files.readString(caDir.resolve("index.tsv")), "nothing issued: " + e.getMessage());
        }
        KeyPair pair = KeyType.EC_P256.generate();
        IssuedCertificate c = authority.enroll(token, Keys.csr(pair, name(party)), null);
        return TlsFiles.write(TlsMaterial.builder().identity(pair.getPrivate(), c.chain()).trust(root).build(),
                dir.resolve("tls-" + party));
    }

    /** {@code openssl req}: a CSR (PEM) for a new P-256 key with {@code subject} and these SANs. */
    static String opensslCsr(String subject, String san) throws Exception {
        Path key = Files.createTempFile(dir, "hostile", "-key.pem");
        Process p = new ProcessBuilder("openssl", "req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-keyout", key.toString(), "-subj", subject, "-addext",
                "subjectAltName=" + san).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "openssl req -subj " + subject);
        return out;
    }

    /** An admin client over HTTPS only, authenticated by {@code tls}'s certificate, hostname verification on. */
    static PulsarAdmin admin(TlsFiles tls) throws Exception {
        return PulsarAdmin.builder().serviceHttpUrl(httpsUrl()).tlsTrustCertsFilePath(tls.ca().toString())
                .enableTlsHostnameVerification(true).allowTlsInsecureConnection(false)
                .authentication(AuthenticationFactory.TLS(tls.cert().toString(), tls.key().toString()))
                .connectionTimeout(5, TimeUnit.SECONDS).requestTimeout(30, TimeUnit.SECONDS).build();
    }

    /** A binary client over TLS through the SNI proxy (as FATE's), authenticated by {@code tls}'s certificate. */
    static PulsarClient client(TlsFiles tls) throws Exception {
        PulsarRouteTable viaProxy = PulsarRouteTable.parse("default:\n  proxy: \"127.0.0.1:"
                + proxy.localAddress().getPort() + "\"\n  domain: " + DOMAIN + "\n");
        PulsarClient c = PartyClients.throughProxy(viaProxy, HOST, tls)
                .authentication(AuthenticationFactory.TLS(tls.cert().toString(), tls.key().toString()))
                .operationTimeout((int) OP_TIMEOUT.toSeconds(), TimeUnit.SECONDS).build();
        closeAfter.add(c);
        return c;
    }

    static void notAuthorized(String what, Executable call) {
        PulsarAdminException e = assertThrows(PulsarAdminException.class, call, what + " must be refused");
        assertTrue(e instanceof PulsarAdminException.NotAuthorizedException
                && (e.getStatusCode() == 401 || e.getStatusCode() == 403), what + ": " + e.getStatusCode() + " " + e);
        System.out.println("refused as expected, " + what + ": HTTP " + e.getStatusCode());
    }

    @Test
    void aPartyEnrollsAsItselfOnlyAndTheSuperUserRoleIsNoPartysName() throws Exception {
        assertTrue(PartyIds.isReserved(SUPERUSER), "the broker's super-user role is reserved");
        assertThrows(IllegalArgumentException.class, () -> CaFolder.of(caDir, null).createToken(SUPERUSER,
                Duration.ofMinutes(5)), "no token for a reserved name");
        String own = "DNS:" + name("10000");
        TlsFiles mine = enroll("10000", List.of(opensslCsr("/CN=root", own), opensslCsr("/CN=" + SUPERUSER, own),
                opensslCsr("/CN=" + SUPERUSER, "DNS:" + SUPERUSER), opensslCsr("/CN=" + name("9999"), own),
                opensslCsr("/CN=" + name("10000"), own + ",DNS:" + name("9999"))));
        X509Certificate leaf = PemCodec.readCertificates(Files.readString(mine.cert())).get(0);
        assertEquals("CN=" + name("10000"), leaf.getSubjectX500Principal().getName());
        assertEquals(List.of(List.of(2, name("10000"))), leaf.getSubjectAlternativeNames().stream()
                .map(l -> List.<Object>copyOf(l)).toList());
        parties.put("10000", mine);
    }

    /** Party 10000's files, enrolled by the test above when it has run (JUnit's order is not fixed). */
    static synchronized TlsFiles party10000() throws Exception {
        if (!parties.containsKey("10000")) {
            parties.put("10000", enroll("10000", null));
        }
        return parties.get("10000");
    }

    @Test
    void anEnrolledPartyIsNoSuperUser() throws Exception {
        try (PulsarAdmin op = admin(operator); PulsarAdmin party = admin(party10000())) {
            // the party is authenticated: it lists its own namespace's topics
            assertTrue(party.topics().getList(namespace("10000")).stream()
                    .allMatch(t -> t.startsWith("persistent://" + namespace("10000") + "/")));
            notAuthorized("creating a tenant", () -> party.tenants().createTenant("taken",
                    TenantInfo.builder().allowedClusters(Set.of(HOST)).adminRoles(Set.of(name("10000"))).build()));
            notAuthorized("listing tenants", () -> party.tenants().getTenants());
            notAuthorized("reading the cluster's configuration", () -> party.clusters().getCluster(HOST));
            notAuthorized("reading the broker's configuration", () -> party.brokers().getRuntimeConfigurations());
            notAuthorized("granting itself 9999's namespace", () -> party.namespaces().grantPermissionOnNamespace(
                    namespace("9999"), name("10000"), EnumSet.of(AuthAction.produce, AuthAction.consume)));
            notAuthorized("reading 9999's permissions", () -> party.namespaces().getPermissions(namespace("9999")));
            assertFalse(op.tenants().getTenants().contains("taken"));
            try (PulsarAdmin anonymous = PulsarAdmin.builder().serviceHttpUrl(broker.adminUrl()).build()) {
                notAuthorized("the plain port without a certificate", () -> anonymous.namespaces()
                        .getTopics(namespace("10000")));
            }
            // the operator's certificate is the super-user
            assertTrue(op.tenants().getTenants().contains(TENANT));
            assertTrue(op.clusters().getClusters().contains(HOST));
            assertEquals(Set.of(name("9999")), op.namespaces().getPermissions(namespace("9999")).keySet());
        }
    }

    @Test
    void anEnrolledPartyCannotActAsAnotherPartysRole() throws Exception {
        String theirs = "persistent://" + namespace("9999") + "/t";
        PulsarClient party = client(party10000());
        PulsarClient owner = client(parties.get("9999"));
        PulsarClient op = client(operator);

        assertThrows(PulsarClientException.AuthorizationException.class,
                () -> party.newProducer().topic(theirs).create(), "10000 produces on 9999's namespace");
        assertThrows(PulsarClientException.AuthorizationException.class,
                () -> party.newConsumer().topic(theirs).subscriptionName("steal").subscribe(),
                "10000 consumes from 9999's namespace");

        roundTrip(owner, owner, theirs, "9999 on its own namespace");
        roundTrip(op, op, theirs, "the operator (super-user) on 9999's namespace");
        roundTrip(party, party, "persistent://" + namespace("10000") + "/t", "10000 on its own namespace");
    }

    /** {@code producer} publishes one message that {@code consumer} (subscribed first) receives. */
    static void roundTrip(PulsarClient producer, PulsarClient consumer, String topic, String what) throws Exception {
        String body = what + " " + System.nanoTime();
        try (Consumer<byte[]> c = consumer.newConsumer().topic(topic).subscriptionName("s-" + System.nanoTime())
                .subscriptionInitialPosition(SubscriptionInitialPosition.Latest).subscribe();
             Producer<byte[]> p = producer.newProducer().topic(topic).sendTimeout(30, TimeUnit.SECONDS).create()) {
            p.send(body.getBytes(StandardCharsets.UTF_8));
            Message<byte[]> m = c.receive((int) OP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertTrue(m != null, what + ": nothing received in " + OP_TIMEOUT);
            assertEquals(body, new String(m.getValue(), StandardCharsets.UTF_8), what);
        }
    }
}
