package io.fedlink.flink.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fedlink.api.PemCodec;
import io.fedlink.api.TlsMaterial;
import io.fedlink.bundle.FlinkBundle;
import io.fedlink.bundle.WrittenBundle;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.KeyType;
import io.fedlink.pki.internal.Pem;
import java.io.IOException;
import java.io.OutputStream;
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
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Apache Flink cluster on the files and lines of {@link FlinkBundle}, unchanged: a JobManager and two
 * TaskManagers as separate JVMs on 127.0.0.1 with {@code security.ssl.internal.*} (Pekko RPC, data plane, blobs)
 * and {@code security.ssl.rest.*} with client authentication. A STREAMING job at parallelism 2 shuffles by key
 * between the TaskManagers to completion; REST answers a client holding the bundle's client certificate and refuses
 * one without it and one that trusts another CA; a TaskManager holding another internal key store never registers.
 */
class FlinkClusterIT {
    static final Duration START = Duration.ofSeconds(120); // generous: a loaded 2-core machine needs ~35 s
    static final long N = 2000;

    @TempDir(cleanup = CleanupMode.ON_SUCCESS) // a failed run keeps the Flink logs
    static Path dir;
    static final List<Process> processes = new ArrayList<>();
    static String classpath;
    static CertificateAuthority ca;
    static WrittenBundle bundle;
    static int restPort;
    static Path conf;
    static Path hosts;

    @BeforeAll
    static void startCluster() throws Exception {
        Path cpFile = Path.of(System.getProperty("flink.classpath.file",
                "../flink-runtime-classpath/target/flink.classpath"));
        assertTrue(Files.isRegularFile(cpFile), cpFile + " is missing: build the flink-runtime-classpath module first");
        classpath = Files.readString(cpFile).strip();
        // Every Flink JVM resolves names from this file only, so no lookup leaves the machine.
        hosts = dir.resolve("hosts");
        Files.writeString(hosts, "127.0.0.1 localhost " + localHostName() + "\n");
        ca = CertificateAuthority.builder().commonName("Flink CA").keyType(KeyType.RSA_2048).create();
        bundle = FlinkBundle.builder(ca).build().write(dir.resolve("ssl"));

        restPort = freePort();
        conf = config("conf", bundle, restPort, freePort(), "");
        processes.add(start("jobmanager", "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
                conf));
        processes.add(start("tm1", "org.apache.flink.runtime.taskexecutor.TaskManagerRunner", conf,
                "-Dtaskmanager.resource-id=tm1"));
        processes.add(start("tm2", "org.apache.flink.runtime.taskexecutor.TaskManagerRunner", conf,
                "-Dtaskmanager.resource-id=tm2"));
        long end = System.nanoTime() + START.toNanos();
        String overview = "";
        while (!overview.contains("\"slots-total\":2")) {
            for (Process p : processes) {
                assertTrue(p.isAlive(), "a Flink process exited; logs in " + dir + ":\n" + logTail("jobmanager")
                        + logTail("tm1"));
            }
            assertTrue(System.nanoTime() < end, "two slots not registered in " + START + ": " + overview
                    + logTail("tm1"));
            Thread.sleep(250);
            try {
                overview = get(clientContext(trustedClient())).body();
            } catch (IOException notYet) {
                overview = notYet.toString();
            }
        }
    }

    /** The folder's config.yaml: the cluster's loopback bindings and memory, then the bundle's lines verbatim. */
    static Path config(String name, WrittenBundle ssl, int rest, int rpc, String extra) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        String base = String.join("\n",
                "jobmanager.rpc.address: 127.0.0.1", "jobmanager.rpc.port: " + rpc,
                "jobmanager.bind-host: 127.0.0.1", "jobmanager.memory.process.size: 768m",
                "rest.address: 127.0.0.1", "rest.bind-address: 127.0.0.1", "rest.port: " + rest,
                "rest.retry.max-attempts: 2",
                "taskmanager.host: 127.0.0.1", "taskmanager.bind-host: 127.0.0.1",
                "taskmanager.rpc.port: 0", "taskmanager.data.port: 0", "blob.server.port: 0",
                "taskmanager.numberOfTaskSlots: 1", "taskmanager.cpu.cores: 1",
                "taskmanager.memory.framework.heap.size: 128m", "taskmanager.memory.task.heap.size: 192m",
                "taskmanager.memory.framework.off-heap.size: 128m", "taskmanager.memory.task.off-heap.size: 0m",
                "taskmanager.memory.network.min: 64m", "taskmanager.memory.network.max: 64m",
                "taskmanager.memory.managed.size: 64m", "taskmanager.memory.jvm-metaspace.size: 256m",
                "taskmanager.memory.jvm-overhead.min: 192m", "taskmanager.memory.jvm-overhead.max: 192m",
                extra, "");
        Files.writeString(d.resolve("config.yaml"), base + Files.readString(ssl.file(FlinkBundle.CONFIG_FILE)));
        Files.writeString(d.resolve("log4j2.properties"), String.join("\n",
                "rootLogger.level = INFO", "rootLogger.appenderRef.main.ref = Main",
                "appender.main.name = Main", "appender.main.type = File", "appender.main.append = true",
                "appender.main.fileName = ${sys:log.file}", "appender.main.layout.type = PatternLayout",
                "appender.main.layout.pattern = %d{HH:mm:ss,SSS} %-5p %c{1} - %m%n", ""));
        return d;
    }

    /** The machine's name, which Flink may look up; "localhost" when even that fails. */
    static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "localhost";
        }
    }

    static Process start(String name, String main, Path confDir, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djdk.net.hosts.file=" + hosts, "-Xmx384m", "-XX:MaxDirectMemorySize=256m",
                "-XX:MaxMetaspaceSize=256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dlog.file=" + dir.resolve(name + ".log"),
                "-Dlog4j.configurationFile=" + confDir.resolve("log4j2.properties"), "-cp", classpath, main,
                "--configDir", confDir.toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".out").toFile())
                .start();
    }

    static String logTail(String name) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (String suffix : List.of(".log", ".out")) {
            Path p = dir.resolve(name + suffix);
            if (Files.exists(p)) {
                List<String> lines = Files.readAllLines(p);
                sb.append("\n--- ").append(name).append(suffix).append('\n')
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
            }
        }
        return sb.toString();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** The bundle's REST client certificate and key (PEM files), trusting the bundle's CA. */
    static TlsMaterial trustedClient() throws IOException {
        return TlsMaterial.builder()
                .identity(Pem.privateKey(Files.readString(bundle.file("rest-client-key.pem")), null),
                        PemCodec.readCertificates(Files.readString(bundle.file("rest-client.pem"))))
                .trust(PemCodec.readCertificates(Files.readString(bundle.file("ca.pem")))).build();
    }

    static SSLContext clientContext(TlsMaterial m) {
        return m.clientContext();
    }

    static HttpResponse<String> get(SSLContext ctx) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5)).build();
        return http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + restPort + "/overview"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @AfterAll
    static void stopCluster() throws Exception {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            if (!p.waitFor(15, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void internalRpcRunsOverSsl() throws Exception {
        for (String tm : List.of("tm1", "tm2")) {
            String log = Files.readString(dir.resolve(tm + ".log"));
            assertTrue(log.contains("Successful registration at resource manager pekko.ssl.tcp://"), logTail(tm));
        }
    }

    @Test
    void streamingJobShufflesAcrossTaskManagersOverInternalSsl() throws Exception {
        Path jar = jobJar();
        Path out = dir.resolve("job.out");
        Process job = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djdk.net.hosts.file=" + hosts, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dlog.file=" + dir.resolve("job.log"),
                "-Dlog4j.configurationFile=" + conf.resolve("log4j2.properties"),
                "-cp", classpath + java.io.File.pathSeparator + jar, "io.fedlink.flink.job.ShuffleJob",
                conf.toString(), "127.0.0.1", String.valueOf(restPort), jar.toString(), String.valueOf(N))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        processes.add(job);
        assertTrue(job.waitFor(120, TimeUnit.SECONDS), "job did not finish in 120 s" + logTail("job"));
        String result = Files.readString(out);
        assertEquals(0, job.exitValue(), result + logTail("job") + logTail("jobmanager"));
        assertTrue(result.contains("RESULT sum=" + (N * (N + 1) / 2) + " crossed="), result);
        long crossed = Long.parseLong(result.replaceAll("(?s).*crossed=(\\d+).*", "$1"));
        assertTrue(crossed > 0 && crossed < N, "records crossed between TaskManagers: " + crossed);
        for (String tm : List.of("tm1", "tm2")) {
            assertTrue(Files.readString(dir.resolve(tm + ".log")).contains("ssl enabled: true"), logTail(tm));
        }
    }

    /** Compiles the job against Flink's class path (Flink is not on this module's) and packs it into a jar. */
    static Path jobJar() throws IOException {
        Path src = Path.of(System.getProperty("flink.job.source", "src/test/flink-job"));
        Path classes = Files.createDirectories(dir.resolve("job-classes"));
        List<String> files;
        try (Stream<Path> s = Files.walk(src)) {
            files = s.filter(p -> p.toString().endsWith(".java")).map(Path::toString).toList();
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> args = new ArrayList<>(List.of("-d", classes.toString(), "-cp", classpath, "--release", "17"));
        args.addAll(files);
        assertEquals(0, javac.run(null, null, null, args.toArray(String[]::new)), "the job did not compile");
        Path jar = dir.resolve("shuffle-job.jar");
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os);
                Stream<Path> s = Files.walk(classes)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
                out.write(Files.readAllBytes(p));
                out.closeEntry();
            }
        }
        return jar;
    }

    @Test
    void restAnswersTheBundleClientCertificate() throws Exception {
        HttpResponse<String> r = get(clientContext(trustedClient()));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains("\"taskmanagers\":2"), r.body());
    }

    @Test
    void restRefusesAClientWithoutCertificate() {
        TlsMaterial trustOnly = TlsMaterial.builder().trust(ca.root()).build(); // no client certificate
        IOException e = assertThrows(IOException.class, () -> get(trustOnly.clientContext()));
        assertTrue(causedBySsl(e), e.toString());
    }

    @Test
    void restIsRefusedByAClientTrustingAnotherCa() throws Exception {
        CertificateAuthority other = CertificateAuthority.builder().commonName("another CA").create();
        TlsMaterial fedlinkClient = trustedClient();
        TlsMaterial m = TlsMaterial.builder()
                .identity(fedlinkClient.privateKey(), fedlinkClient.certificateChain()).trust(other.root()).build();
        IOException e = assertThrows(IOException.class, () -> get(m.clientContext()));
        assertTrue(causedBySsl(e), e.toString());
    }

    @Test
    void taskManagerWithAnotherInternalKeyStoreNeverRegisters() throws Exception {
        CertificateAuthority other = CertificateAuthority.builder().commonName("other Flink CA")
                .keyType(KeyType.RSA_2048).create();
        WrittenBundle foreign = FlinkBundle.builder(other).rest(false).build().write(dir.resolve("foreign-ssl"));
        Path foreignConf = config("foreign-conf", foreign, restPort,
                Integer.parseInt(Files.readAllLines(conf.resolve("config.yaml")).stream()
                        .filter(l -> l.startsWith("jobmanager.rpc.port: ")).findFirst().orElseThrow().substring(21)),
                "taskmanager.registration.timeout: 15 s");
        Process intruder = start("tm-foreign", "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
                foreignConf, "-Dtaskmanager.resource-id=tm-foreign");
        processes.add(intruder);
        assertTrue(intruder.waitFor(90, TimeUnit.SECONDS), "the foreign TaskManager should give up registering"
                + logTail("tm-foreign"));
        String log = Files.readString(dir.resolve("tm-foreign.log"));
        assertFalse(log.contains("Successful registration"), logTail("tm-foreign"));
        assertTrue(log.contains("SSLHandshakeException") && log.contains("RegistrationTimeoutException"),
                logTail("tm-foreign"));
        String overview = get(clientContext(trustedClient())).body();
        assertTrue(overview.contains("\"taskmanagers\":2") && overview.contains("\"slots-total\":2"), overview);
    }

    static boolean causedBySsl(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SSLException) {
                return true;
            }
        }
        return false;
    }
}
