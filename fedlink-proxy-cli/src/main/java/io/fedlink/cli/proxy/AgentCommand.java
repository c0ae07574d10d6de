package io.fedlink.cli.proxy;

import io.fedlink.app.PemFilesMaterial;
import io.fedlink.api.Endpoint;
import io.fedlink.api.ReloadableTlsMaterial;
import io.fedlink.pki.enroll.PartyFiles;
import io.fedlink.sni.Agent;
import io.fedlink.cli.support.Durations;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code fedlink agent}: runs beside a party's broker when the party can open no inbound port. It dials out to the
 * federation's proxies with the party's enrolled certificate ({@code fedlink pki enroll}, renewals picked up) and
 * carries the tunnels they hand it to the broker. Prints one line per change of a link's state.
 */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = "Run a party agent: dial out to the proxies and carry their tunnels to the local broker, so the"
                + " party opens no inbound port.")
public final class AgentCommand implements Callable<Integer> {
    @Option(names = "--party-dir", paramLabel = "DIR", description = "the party's enrolled files (fedlink pki"
            + " enroll --out DIR): certificate, key, federation CA; renewals are picked up")
    Path partyDir;
    @Option(names = "--cert", paramLabel = "FILE", description = "instead of --party-dir: the party's certificate"
            + " chain (PEM, fedlink pki cert create --party ID)")
    Path cert;
    @Option(names = "--key", paramLabel = "FILE", description = "with --cert: its private key (PEM, mode 600)")
    Path key;
    @Option(names = "--ca", paramLabel = "FILE", description = "with --cert: the federation CA (PEM)")
    Path ca;
    @Option(names = "--proxy", required = true, paramLabel = "HOST:PORT", description = "a proxy's agent port"
            + " (its --agent-listen); repeat for several proxies")
    List<String> proxies;
    @Option(names = "--target", required = true, paramLabel = "HOST:PORT", description = "where every tunnel goes:"
            + " the party's broker TLS port, e.g. 127.0.0.1:6651")
    String target;
    @Option(names = "--pool", defaultValue = "4", description = "idle data connections kept open to each proxy"
            + " (default: ${DEFAULT-VALUE})")
    int pool;
    @Option(names = "--connect-timeout", defaultValue = "5s", converter = Durations.class, paramLabel = "DURATION",
            description = "to a proxy or to the target (default: ${DEFAULT-VALUE})")
    Duration connectTimeout;

    @Spec
    CommandSpec spec;

    /** Runs the agent until the process is stopped; exit status 0. */
    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        Durations.check(cl, "--connect-timeout", connectTimeout, false, Duration.ofMinutes(5), "5m");
        Endpoint to = parse(cl, "--target", target);
        if ((partyDir == null) == (cert == null) || cert != null && (key == null || ca == null)
                || cert == null && (key != null || ca != null)) {
            throw new CommandLine.ParameterException(cl, "give the party's identity: --party-dir DIR, or --cert FILE"
                    + " --key FILE --ca FILE");
        }
        AutoCloseable watcher;
        ReloadableTlsMaterial tls;
        if (partyDir != null) {
            PartyFiles files = new PartyFiles(partyDir);
            tls = ReloadableTlsMaterial.of(files.read());
            watcher = files.watch(tls, Duration.ofSeconds(10));
        } else {
            PemFilesMaterial files = PemFilesMaterial.watch(cert, key, ca, null, Duration.ofSeconds(10));
            tls = files.material();
            watcher = files;
        }
        Agent.Builder b = Agent.builder().tls(tls).target(to).pool(pool).connectTimeout(connectTimeout);
        for (String p : proxies) {
            b.proxy(parse(cl, "--proxy", p));
        }
        PrintWriter out = cl.getOut();
        try (AutoCloseable renewals = watcher; Agent agent = b.start()) {
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                agent.close();
                stopped.countDown();
            }, "fedlink-agent-shutdown"));
            out.println("fedlink agent dialling " + String.join(", ", proxies) + "; tunnels go to " + to);
            out.flush();
            Map<Endpoint, String> shown = new HashMap<>();
            do {
                for (Agent.LinkStatus s : agent.status()) {
                    String line = s.connected() ? "connected to " + s.proxy() + " as party " + s.party()
                            : s.problem() == null ? null : "link to " + s.proxy() + " down: " + s.problem();
                    if (line != null && !Objects.equals(shown.put(s.proxy(), line), line)) {
                        out.println("fedlink agent " + line);
                        out.flush();
                    }
                }
            } while (!stopped.await(500, TimeUnit.MILLISECONDS));
        }
        return 0;
    }

    private static Endpoint parse(CommandLine cl, String option, String value) {
        try {
            return Endpoint.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "invalid value for option '" + option + "': "
                    + e.getMessage());
        }
    }
}
