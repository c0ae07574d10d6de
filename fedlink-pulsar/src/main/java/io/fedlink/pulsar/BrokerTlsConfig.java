package io.fedlink.pulsar;

import io.fedlink.api.TlsFiles;
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
    private static final java.util.regex.Pattern VERSION = java.util.regex.Pattern.compile(
            "(\\d{1,3})\\.(\\d{1,3})(\\.\\d{1,3})?");
    /** The Pulsar version the lines are for unless told otherwise (what the tests run: 4.0.7). */
    public static final String DEFAULT_PULSAR_VERSION = "4.0";
    /** The broker client's TLS authentication plugin that Pulsar before 2.11 reads the client's files from. */
    public static final String AUTHENTICATION_TLS = "org.apache.pulsar.client.impl.auth.AuthenticationTls";

    private BrokerTlsConfig() {}

    /** The settings for Pulsar {@value #DEFAULT_PULSAR_VERSION}: {@link #lines(TlsFiles, boolean, String)}. */
    public static Map<String, String> lines(TlsFiles files, boolean requireClientCert) {
        return lines(files, requireClientCert, DEFAULT_PULSAR_VERSION);
    }

    /**
     * The settings, in the guide's order, for the broker of Pulsar {@code pulsarVersion} ({@code major.minor} or
     * {@code major.minor.patch}, 2.7 or later). The broker's own client (replication, admin calls between brokers)
     * presents the party's certificate: from 2.11 on in {@code brokerClientCertificateFilePath} and
     * {@code brokerClientKeyFilePath}; before 2.11 (FATE 1.x ran 2.7 to 2.10) Pulsar has no such keys and reads
     * the files from {@code brokerClientAuthenticationPlugin=}{@value #AUTHENTICATION_TLS} with
     * {@code brokerClientAuthenticationParameters=tlsCertFile:...,tlsKeyFile:...}.
     *
     * @param files             the broker's PEM files (identity required)
     * @param requireClientCert whether clients must present a certificate from the federation CA (mutual TLS)
     * @throws IllegalArgumentException naming a version that is not {@code major.minor[.patch]} or is before 2.7,
     *                                  or a file path the legacy parameters cannot carry (a comma)
     */
    public static Map<String, String> lines(TlsFiles files, boolean requireClientCert, String pulsarVersion) {
        boolean filePathKeys = readsBrokerClientFilePaths(pulsarVersion);
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
        if (filePathKeys) {
            m.put("brokerClientCertificateFilePath", files.cert().toString());
            m.put("brokerClientKeyFilePath", files.key().toString());
        } else {
            for (Path p : new Path[] {files.cert(), files.key()}) {
                if (p.toString().contains(",")) { // the parameters are comma-separated key:value pairs
                    throw new IllegalArgumentException("path '" + p + "' has a comma, which Pulsar " + pulsarVersion
                            + "'s brokerClientAuthenticationParameters cannot carry: install the files in a folder "
                            + "without one");
                }
            }
            m.put("brokerClientAuthenticationPlugin", AUTHENTICATION_TLS);
            m.put("brokerClientAuthenticationParameters", "tlsCertFile:" + files.cert() + ",tlsKeyFile:"
                    + files.key());
        }
        m.put("tlsHostnameVerificationEnabled", "true");
        return m;
    }

    /**
     * Whether Pulsar {@code version} reads the broker client's TLS files from {@code brokerClientCertificateFilePath}
     * and {@code brokerClientKeyFilePath} (2.11 and later) rather than from its authentication parameters.
     *
     * @throws IllegalArgumentException naming a version that is not {@code major.minor[.patch]} or is before 2.7
     */
    public static boolean readsBrokerClientFilePaths(String version) {
        java.util.regex.Matcher v = VERSION.matcher(version == null ? "" : version);
        int major = v.matches() ? Integer.parseInt(v.group(1)) : -1;
        int minor = v.matches() ? Integer.parseInt(v.group(2)) : -1;
        if (major < 2 || major == 2 && minor < 7) {
            throw new IllegalArgumentException("invalid Pulsar version '" + version + "': give the brokers' "
                    + "version as major.minor or major.minor.patch, 2.7 or later (e.g. 2.10.6 or 4.0.7)");
        }
        return major > 2 || minor >= 11;
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
