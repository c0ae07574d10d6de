package io.fedlink.api;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * FATE party ids ({@code 10000}, {@code 9999}): the one rule for what a party id may be, shared by the route table
 * reader, the CA and every command that takes a party id. A party id becomes the first label of its host name
 * ({@code 10000.fate.org}), so it is one DNS label: letters, digits and '-', 1..63 characters, not starting or
 * ending with '-'. Ids are case-insensitive, as DNS names are: {@link #canonical} is the one place that turns an id
 * into its canonical form (lower case), which the CA records and issues; FATE's ids (digits) are their own
 * canonical form.
 */
public final class PartyIds {
    /** The rule in words, for error messages. */
    public static final String RULE = "letters, digits and '-' only (not first or last), 1..63 characters";

    /**
     * Names no party may have, compared case-insensitively: each is already an identity somewhere in a federation
     * fedlink builds, and a client certificate's common name is that identity to etcd ({@code --client-cert-auth})
     * and to Pulsar's TLS authentication. A party's certificate names {@code <id>.<domain>}, never the bare id, but
     * an id equal to one of these would still make logs, registry keys and tokens ambiguous, so none is accepted.
     * <ul>
     *   <li>{@code root}: etcd's root user and role;</li>
     *   <li>{@code operator}, {@code proxy}: the etcd users and roles of the README's RBAC set-up (the operator
     *       writes the registry, each proxy reads it); {@code proxy} is also Pulsar's usual proxy role;</li>
     *   <li>{@code etcdctl}: the etcd bundle's client certificate (an etcd user when RBAC is on);</li>
     *   <li>{@code flink-rest}, {@code flink-rest-client}: the Flink bundle's REST key alias and client;</li>
     *   <li>{@code admin}, {@code superuser}, {@code pulsar}, {@code pulsar-proxy}: Pulsar's conventional
     *       super-user, broker and proxy roles ({@code superUserRoles}, {@code proxyRoles});</li>
     *   <li>{@code ca}: the CA's own role (a CA's names are refused at issue time too);</li>
     *   <li>{@code server}, {@code client}, {@code peer}, {@code cli}: the certificate roles, the common name of a
     *       certificate issued without a name;</li>
     *   <li>{@code default}: the key of the defaults entry in FATE's {@code pulsar_route_table.yaml};</li>
     *   <li>{@code localhost}: the loopback host name.</li>
     * </ul>
     */
    public static final Set<String> RESERVED = Set.of("root", "operator", "proxy", "etcdctl", "flink-rest",
            "flink-rest-client", "admin", "superuser", "pulsar", "pulsar-proxy", "ca", "server", "client", "peer",
            "cli", "default", "localhost");

    private static final Pattern PARTY_ID = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?");

    private PartyIds() {}

    /** Whether {@code id} follows the party naming rule (any case; reserved names included). */
    public static boolean isValid(String id) {
        return id != null && PARTY_ID.matcher(id).matches();
    }

    /** Whether {@code id} is one of the {@link #RESERVED} names, in any case. */
    public static boolean isReserved(String id) {
        return id != null && RESERVED.contains(id.toLowerCase(Locale.ROOT));
    }

    /**
     * The canonical form of party id {@code id}: lower case ({@code ABC} and {@code abc} are one party).
     *
     * @throws IllegalArgumentException naming the id when it breaks the {@link #RULE} or is {@link #RESERVED}
     */
    public static String canonical(String id) {
        if (!isValid(id)) {
            throw new IllegalArgumentException("invalid party id " + HostNames.quote(id) + ": " + RULE);
        }
        if (isReserved(id)) {
            throw new IllegalArgumentException("party id " + HostNames.quote(id) + " is reserved (an identity of "
                    + "the federation's own services: " + String.join(", ", new java.util.TreeSet<>(RESERVED))
                    + "): choose another id");
        }
        return id.toLowerCase(Locale.ROOT);
    }
}
