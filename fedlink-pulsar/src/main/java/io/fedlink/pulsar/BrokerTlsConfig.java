package io.fedlink.pulsar;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The broker-side TLS lines of the FATE guide's {@code standalone.conf}, from fedlink-pki material, made strict:
 * the guide's {@code tlsAllowInsecureConnection=true} becomes {@code false}, and hostname verification is on for the
 * broker's own (replication) clients.
 *
 * <pre>{@code
 * TlsFiles files = TlsFiles.write(party.tlsMaterial(), Path.of("/opt/pulsar/certs"));
 * BrokerTlsConfig.appendTo(Path.of("conf/standalone.conf"), BrokerTlsConfig.lines(files, true));
 * BrokerTlsConfig.appendTo(Path.of("conf/standalone.conf"), BrokerTlsConfig.clusterLines("9999"));
 * }</pre>
 *
 * <p>{@link #clusterLines} names the broker after its party, which three or more parties need (FATE's replicator
 * collision).
 */
public final class BrokerTlsConfig {
    private static final java.util.regex.Pattern CLUSTER_NAME = java.util.regex.Pattern.compile("[-=:.\\w]{1,128}");
    private BrokerTlsConfig() {}

    /**
     * The settings, in the guide's order.
     *
     * @param files             the broker's PEM files (identity required)
     * @param requireClientCert whether clients must present a certificate from the federation CA (mutual TLS)
     */
    public static Map<String, String> lines(TlsFiles files, boolean requireClientCert) {
        if (files.cert() == null) {
            throw new IllegalArgumentException("a broker needs an identity: " + files.dir() + " holds trust only");
        }
        Map<String, String> m = new LinkedHashMap<>();
        m.put("brokerServicePortTls", "6651");
        m.put("webServicePortTls", "8081");
        m.put("tlsCertificateFilePath", files.cert().toString());
        m.put("tlsKeyFilePath", files.key().toString());
        m.put("tlsTrustCertsFilePath", files.ca().toString());
        m.put("tlsAllowInsecureConnection", "false");
        m.put("tlsRequireTrustedClientCertOnConnect", String.valueOf(requireClientCert));
        m.put("tlsProtocols", "TLSv1.3,TLSv1.2");
        m.put("bookkeeperTLSTrustCertsFilePath", files.ca().toString());
        m.put("brokerClientTlsEnabled", "true");
        m.put("brokerClientTrustCertsFilePath", files.ca().toString());
        m.put("brokerClientCertificateFilePath", files.cert().toString());
        m.put("brokerClientKeyFilePath", files.key().toString());
        m.put("tlsHostnameVerificationEnabled", "true");
        return m;
    }

    /**
     * The broker's name in the federation: {@code clusterName=<party id>}. Pulsar names a replicator's producer
     * {@code <replicatorPrefix>.<local cluster>--><remote cluster>}; with every party left at the standalone default
     * {@code clusterName=standalone}, two parties replicating into a third both connect as
     * {@code pulsar.repl.standalone--><third>} and the second is refused ("Producer with name ... is already
     * connected"). Naming each broker after its party makes the names unique, and it is also the name other parties
     * register it under, so the namespace replication sets agree everywhere.
     *
     * @param partyId the local party id (letters, digits, '-', '_', '.', '=' and ':' only, as Pulsar's cluster names)
     */
    public static Map<String, String> clusterLines(String partyId) {
        if (partyId == null || !CLUSTER_NAME.matcher(partyId).matches() || partyId.equals("standalone")) {
            throw new IllegalArgumentException("invalid party id " + (partyId == null ? "(none)" : "'" + partyId + "'")
                    + " for a Pulsar cluster name: use the party's id from the route table (letters, digits, '-')");
        }
        return Map.of("clusterName", partyId);
    }

    /** As {@code key=value} lines. */
    public static String text(Map<String, String> lines) {
        return lines.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining("\n", "", "\n"));
    }

    /** Appends the lines to a broker configuration file (later keys win in Pulsar's loader). */
    public static void appendTo(Path conf, Map<String, String> lines) throws IOException {
        Files.writeString(conf, "\n# written by fedlink\n" + text(lines), java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
    }
}
