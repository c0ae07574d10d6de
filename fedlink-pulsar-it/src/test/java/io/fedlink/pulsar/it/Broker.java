package io.fedlink.pulsar.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One party's real Pulsar standalone (broker + one bookie, RocksDB metadata) as a separate JVM, on its own loopback
 * address with the standard ports. Its TLS settings are the party folder's {@code standalone-tls.conf} from
 * {@code fedlink bundle federation}, appended unchanged; its own internal clients reach
 * brokers through the fedlink proxy (SNI), since Pulsar's binary client resolves names with Netty's resolver, which
 * a hosts file does not reach. The hosts file is for the JDK resolver of its HTTP admin client.
 */
final class Broker implements AutoCloseable {
    final String party;
    final String address;
    final Path dir;
    private final Process process;

    private Broker(String party, String address, Path dir, Process process) {
        this.party = party;
        this.address = address;
        this.dir = dir;
        this.process = process;
    }

    static Broker start(String party, String address, Path dir, Path partyFolder, int proxyPort, Path hostsFile)
            throws IOException {
        Files.createDirectories(dir);
        String conf = String.join("\n",
                "clusterName=" + party,
                "bindAddress=" + address,
                "advertisedAddress=" + party + ".fate.org",
                "brokerServicePort=6650",
                "webServicePort=8080",
                "numHttpServerThreads=8",
                "numIOThreads=2",
                "numOrderedExecutorThreads=2",
                "managedLedgerDefaultEnsembleSize=1",
                "managedLedgerDefaultWriteQuorum=1",
                "managedLedgerDefaultAckQuorum=1",
                "managedLedgerCacheSizeMB=16",
                "systemTopicEnabled=false",
                "topicLevelPoliciesEnabled=false",
                "functionsWorkerEnabled=false",
                "loadBalancerEnabled=false",
                "allowLoopback=true",
                "listeningInterface=lo",
                "allowEphemeralPorts=true",
                "brokerClient_proxyServiceUrl=pulsar+ssl://127.0.0.1:" + proxyPort,
                "brokerClient_proxyProtocol=SNI",
                "") + Files.readString(partyFolder.resolve("standalone-tls.conf"));
        Path confFile = dir.resolve("standalone.conf");
        Files.writeString(confFile, conf);
        String classpathFile = System.getProperty("broker.classpath.file");
        assertTrue(classpathFile != null && Files.exists(Path.of(classpathFile)),
                "the broker class path is made by the pulsar-broker-runtime module: " + classpathFile);
        String classpath = Files.readString(Path.of(classpathFile)).strip();
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms128m", "-Xmx384m", "-XX:MaxDirectMemorySize=256m", "-XX:+UseSerialGC",
                // C1 only: a broker reaches ready on ~45% less CPU (measured 9 s instead of 17 s); tests need no
                // peak throughput.
                "-XX:TieredStopAtLevel=1",
                "-Djdk.net.hosts.file=" + hostsFile,
                "-Dpulsar.log.level=warn", "-Dpulsar.log.root.level=warn",
                "--add-opens", "java.base/jdk.internal.platform=ALL-UNNAMED",
                "--add-opens", "java.management/sun.management=ALL-UNNAMED",
                "-cp", classpath,
                "org.apache.pulsar.PulsarStandaloneStarter",
                "--config", confFile.toString(), "--no-functions-worker", "--no-stream-storage",
                "--bookkeeper-port", String.valueOf(freePort()), "--bookkeeper-dir", dir.resolve("bk").toString(),
                "--metadata-dir", dir.resolve("metadata").toString(), "-a", party + ".fate.org"));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("broker.log").toFile()).start();
        return new Broker(party, address, dir, p);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    String adminUrl() {
        return "http://" + address + ":8080";
    }

    /** Waits until the standalone has created its default tenants (its last start-up step). */
    void awaitReady(Duration timeout) throws Exception {
        awaitReady(timeout, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build(), adminUrl());
    }

    /**
     * As {@link #awaitReady(Duration)}, asking {@code baseUrl} with {@code http}: for a broker that authenticates
     * every call, HTTPS presenting a super-user's certificate.
     */
    void awaitReady(Duration timeout, HttpClient http, String baseUrl) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            assertTrue(process.isAlive(), "broker " + party + " exited:\n" + tail());
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(baseUrl
                        + "/admin/v2/namespaces/public")).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200 && r.body().contains("public/default")) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            assertTrue(System.nanoTime() - end < 0, "broker " + party + " not ready in " + timeout + ":\n" + tail());
            Thread.sleep(250);
        }
    }

    String tail() {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("broker.log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()).stream()
                    .map(l -> l.length() > 400 ? l.substring(0, 400) + "..." : l).toList());
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** The broker JVM's process id, and whether it still runs: a restart would change the one or end the other. */
    ProcessHandle handle() {
        return process.toHandle();
    }

    /** Kills the broker at once (no graceful shutdown, which takes ~15 s); {@link #close} then only reaps it. */
    void kill() {
        process.destroyForcibly();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
