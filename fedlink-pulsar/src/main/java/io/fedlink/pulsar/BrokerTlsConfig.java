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
 * }</pre>
 */
public final class BrokerTlsConfig {
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

    /** As {@code key=value} lines. */
    public static String text(Map<String, String> lines) {
        return lines.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining("\n", "", "\n"));
    }

    /** Appends the lines to a broker configuration file (later keys win in Pulsar's loader). */
    public static void appendTo(Path conf, Map<String, String> lines) throws IOException {
        Files.writeString(conf, "\n# TLS, written by fedlink\n" + text(lines), java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
    }
}
