package io.fedlink.cli.proxy;

import io.fedlink.app.PemFilesMaterial;
import io.fedlink.api.AgentListenerConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** {@code fedlink proxy}'s options for party agents (parties with no inbound port, see {@code fedlink agent}). */
final class AgentListenOptions {
    @Option(names = "--agent-listen", paramLabel = "[IP:]PORT", description = "accept party agents here (e.g."
            + " 0.0.0.0:7443); routes with 'agent: PARTY' are served through them")
    String listen;
    @Option(names = "--agent-cert", paramLabel = "FILE", description = "with --agent-listen: the proxy's"
            + " certificate chain (PEM), issued by the federation CA")
    Path cert;
    @Option(names = "--agent-key", paramLabel = "FILE", description = "with --agent-listen: its private key (PEM,"
            + " mode 600)")
    Path key;
    @Option(names = "--agent-ca", paramLabel = "FILE", description = "with --agent-listen: the federation CA"
            + " (PEM) that issues party certificates")
    Path ca;
    @Option(names = "--agent-crl", paramLabel = "FILE", description = "with --agent-listen: the CA's CRL (PEM);"
            + " re-read when it changes, a revoked party's agent is disconnected")
    Path crl;
    @Option(names = "--agent-domain", defaultValue = "fate.org", description = "party domain: a party's"
            + " certificate names <party>.<domain> (default: ${DEFAULT-VALUE})")
    String domain;
    @Option(names = "--max-agents", defaultValue = "64", description = "agents connected at once (default:"
            + " ${DEFAULT-VALUE})")
    int maxAgents;
    @Option(names = "--agent-pool", defaultValue = "16", description = "idle data connections one agent may keep"
            + " (default: ${DEFAULT-VALUE})")
    int pool;

    boolean given() {
        return listen != null;
    }

    /** Checks the options fit together; the files are read by {@link #start}. */
    void check(CommandLine cl) {
        if (listen == null) {
            if (cert != null || key != null || ca != null || crl != null) {
                throw new CommandLine.ParameterException(cl, "--agent-cert, --agent-key, --agent-ca and --agent-crl"
                        + " need --agent-listen [IP:]PORT");
            }
            return;
        }
        if (cert == null || key == null || ca == null) {
            throw new CommandLine.ParameterException(cl, "--agent-listen needs --agent-cert, --agent-key and"
                    + " --agent-ca: agents verify the proxy's certificate and the proxy verifies theirs (create the"
                    + " proxy's with 'fedlink pki cert create --name <proxy host> --ca-dir CA')");
        }
    }

    /** The proxy's TLS files for the agent port, re-read every {@code reload} while the proxy runs. */
    PemFilesMaterial watchTls(Duration reload) throws IOException {
        return PemFilesMaterial.watch(cert, key, ca, crl, reload);
    }

    /** The listener's config on the TLS material of {@code tls}. */
    AgentListenerConfig config(PemFilesMaterial tls) {
        InetSocketAddress at = ProxyCommand.ipAndPort("--agent-listen", listen, 7443);
        return AgentListenerConfig.builder(at).tls(tls.material()).partyDomain(domain).maxAgents(maxAgents)
                .maxPoolPerAgent(pool).build();
    }
}
