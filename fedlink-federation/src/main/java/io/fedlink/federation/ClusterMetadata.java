package io.fedlink.federation;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The Pulsar cluster metadata party A registers for party B so that geo-replication reaches B, exactly as FATE
 * builds it from the route table. For a remote party behind the SNI proxy:
 *
 * <pre>
 * {
 *   "serviceUrl" : "",
 *   "serviceUrlTls" : "",
 *   "brokerServiceUrl" : "pulsar://9999.fate.org:6650",
 *   "brokerServiceUrlTls" : "pulsar+ssl://9999.fate.org:6651",
 *   "proxyServiceUrl" : "pulsar+ssl://proxy.fate.org:443",
 *   "proxyProtocol" : "SNI",
 *   "peerClusterNames" : [ ]
 * }
 * </pre>
 *
 * <p>Plain values: fedlink-pulsar turns them into Pulsar's {@code ClusterData} ({@code FederationAdmin.clusterData}).
 * {@link #toJson()} writes that form (Jackson's default pretty printer, as the FATE guide shows it), so the output
 * compares byte for byte. Optional TLS fields (trust certificates, client certificate and key paths for mutual
 * TLS) are added only when set, after the seven fields above.
 *
 * @param clusterName         the Pulsar cluster name (FATE uses the party id)
 * @param serviceUrl          HTTP admin URL (FATE leaves it empty)
 * @param serviceUrlTls       HTTPS admin URL (FATE leaves it empty)
 * @param brokerServiceUrl    {@code pulsar://host:port}
 * @param brokerServiceUrlTls {@code pulsar+ssl://host:sslPort}
 * @param proxyServiceUrl     {@code pulsar+ssl://proxy}, or empty when the party is reached directly
 * @param proxyProtocol       {@code SNI} with a proxy, else {@code null}
 * @param tls                 optional TLS settings for replication clients (ordered keys), may be empty
 */
public record ClusterMetadata(String clusterName, String serviceUrl, String serviceUrlTls, String brokerServiceUrl,
                              String brokerServiceUrlTls, String proxyServiceUrl, String proxyProtocol,
                              Map<String, Object> tls) {

    /** Copies the TLS map. */
    public ClusterMetadata {
        tls = tls == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(tls));
    }

    /** The metadata FATE derives for {@code partyId} from {@code table}. */
    public static ClusterMetadata forParty(PulsarRouteTable table, String partyId) {
        PulsarRouteTable.Party p = table.party(partyId);
        String host = p.host().indexOf(':') >= 0 ? "[" + p.host() + "]" : p.host();
        return new ClusterMetadata(partyId, "", "", "pulsar://" + host + ":" + p.port(),
                "pulsar+ssl://" + host + ":" + p.sslPort(),
                p.proxy() == null ? "" : "pulsar+ssl://" + p.proxy(),
                p.proxy() == null ? null : "SNI", Map.of());
    }

    /**
     * A copy with TLS settings for the replication client: the trust file, and client certificate and key files for
     * mutual TLS (paths as the broker sees them). Hostname verification of replication connections is a broker
     * setting ({@code tlsHostnameVerificationEnabled}, written by fedlink-pulsar's {@code BrokerTlsConfig}), not
     * cluster data.
     */
    public ClusterMetadata withTls(String trustCertsFilePath, String clientCertFilePath, String clientKeyFilePath) {
        Map<String, Object> t = new java.util.LinkedHashMap<>();
        t.put("brokerClientTlsEnabled", true);
        t.put("tlsAllowInsecureConnection", false);
        t.put("brokerClientTrustCertsFilePath", Objects.requireNonNull(trustCertsFilePath, "trust"));
        if (clientCertFilePath != null) {
            t.put("brokerClientCertificateFilePath", clientCertFilePath);
            t.put("brokerClientKeyFilePath", Objects.requireNonNull(clientKeyFilePath, "client key"));
        }
        return new ClusterMetadata(clusterName, serviceUrl, serviceUrlTls, brokerServiceUrl, brokerServiceUrlTls,
                proxyServiceUrl, proxyProtocol, t);
    }

    /** The fields in FATE's order, then any TLS fields. */
    public Map<String, Object> fields() {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("serviceUrl", serviceUrl);
        m.put("serviceUrlTls", serviceUrlTls);
        m.put("brokerServiceUrl", brokerServiceUrl);
        m.put("brokerServiceUrlTls", brokerServiceUrlTls);
        m.put("proxyServiceUrl", proxyServiceUrl);
        if (proxyProtocol != null) {
            m.put("proxyProtocol", proxyProtocol);
        }
        m.put("peerClusterNames", List.of());
        m.putAll(tls);
        return m;
    }

    /** The JSON as FATE's guide prints it (two-space indent, {@code "key" : value}, {@code [ ]}). */
    public String toJson() {
        StringBuilder sb = new StringBuilder("{\n");
        List<Map.Entry<String, Object>> entries = new ArrayList<>(fields().entrySet());
        for (int i = 0; i < entries.size(); i++) {
            Map.Entry<String, Object> e = entries.get(i);
            sb.append("  ").append(quote(e.getKey())).append(" : ").append(value(e.getValue()));
            sb.append(i < entries.size() - 1 ? ",\n" : "\n");
        }
        return sb.append('}').toString();
    }

    private static String value(Object v) {
        if (v instanceof List<?> l) {
            if (l.isEmpty()) {
                return "[ ]";
            }
            StringBuilder sb = new StringBuilder("[ ");
            for (int i = 0; i < l.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(value(l.get(i)));
            }
            return sb.append(" ]").toString();
        }
        if (v instanceof Boolean || v instanceof Number) {
            return v.toString();
        }
        return quote(String.valueOf(v));
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
