package io.fedlink.pulsar;

import io.fedlink.federation.ClusterMetadata;
import io.fedlink.federation.PulsarRouteTable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.common.policies.data.ClusterData;
import org.apache.pulsar.common.policies.data.TenantInfo;

/**
 * Applies a federation to one party's Pulsar with the admin API, as FATE does before a session: a cluster entry for
 * every remote party (FATE's {@link ClusterMetadata}), the tenant {@code fl-tenant} allowed on all of them, and a
 * namespace replicated to the session's parties. Every step is idempotent: existing clusters are updated, an existing
 * tenant gains missing clusters, an existing namespace gets the replication set.
 *
 * <p>For a registry sync: {@link #syncParty} creates or updates one party, {@link #removeParty} takes one out
 * (replication stopped, cluster deleted), {@link #federatedClusters} lists what the broker federates with, so that a
 * sync restarted after a removal still finds the party to remove.
 */
public final class FederationAdmin {
    /** FATE's tenant. */
    public static final String TENANT = "fl-tenant";

    private final PulsarAdmin admin;
    private final PulsarRouteTable table;
    private final String localParty;

    /**
     * @param admin      an admin client for the local party's broker (the caller owns and closes it)
     * @param table      the local party's route table
     * @param localParty the local party id (its cluster already exists: Pulsar creates it at first start)
     */
    public FederationAdmin(PulsarAdmin admin, PulsarRouteTable table, String localParty) {
        this.admin = admin;
        this.table = table;
        this.localParty = localParty;
    }

    /** Creates or updates the cluster entry of a remote party; returns the metadata applied. */
    public ClusterMetadata registerParty(String partyId, ClusterMetadata metadata) throws PulsarAdminException {
        requireRemote(partyId);
        List<String> existing = admin.clusters().getClusters();
        if (existing.contains(partyId)) {
            admin.clusters().updateCluster(partyId, clusterData(metadata));
        } else {
            admin.clusters().createCluster(partyId, clusterData(metadata));
        }
        return metadata;
    }

    /** Registers a remote party with FATE's metadata from the route table. */
    public ClusterMetadata registerParty(String partyId) throws PulsarAdminException {
        return registerParty(partyId, ClusterMetadata.forParty(table, partyId));
    }

    /**
     * Makes {@code fl-tenant/<namespace>} replicated to {@code parties} (the local party is always included),
     * registering remote parties that are missing. Returns the namespace name.
     */
    public String replicatedNamespace(String namespace, Set<String> parties) throws PulsarAdminException {
        Set<String> clusters = new LinkedHashSet<>();
        clusters.add(localParty);
        clusters.addAll(parties);
        List<String> known = admin.clusters().getClusters();
        for (String p : clusters) {
            if (!p.equals(localParty) && !known.contains(p)) {
                registerParty(p);
            }
        }
        allowOnTenant(clusters);
        String ns = TENANT + "/" + namespace;
        if (!admin.namespaces().getNamespaces(TENANT).contains(ns)) {
            try {
                admin.namespaces().createNamespace(ns);
            } catch (PulsarAdminException.ConflictException e) {
                // created concurrently: fine
            }
        }
        admin.namespaces().setNamespaceReplicationClusters(ns, clusters);
        return ns;
    }

    /**
     * Makes the broker's cluster entry of a remote party equal to {@code metadata} (created when missing, updated when
     * its data differs, untouched otherwise) and allows the party on {@code fl-tenant}, which marks it as a cluster
     * of the federation for {@link #federatedClusters}. Idempotent; returns whether anything changed.
     */
    public boolean syncParty(String partyId, ClusterMetadata metadata) throws PulsarAdminException {
        requireRemote(partyId);
        ClusterData wanted = clusterData(metadata);
        boolean changed = false;
        if (!admin.clusters().getClusters().contains(partyId)) {
            admin.clusters().createCluster(partyId, wanted);
            changed = true;
        } else if (!wanted.equals(admin.clusters().getCluster(partyId))) {
            admin.clusters().updateCluster(partyId, wanted);
            changed = true;
        }
        return allowOnTenant(Set.of(localParty, partyId)) || changed;
    }

    /**
     * Takes a remote party out of the federation at this broker: every {@code fl-tenant} namespace stops replicating
     * to it, its cluster entry is deleted, then the tenant stops allowing it (last, so that a run interrupted
     * half-way still finds the party through {@link #federatedClusters} and finishes). Idempotent; returns whether
     * anything changed.
     */
    public boolean removeParty(String partyId) throws PulsarAdminException {
        requireRemote(partyId);
        boolean changed = false;
        boolean tenant = admin.tenants().getTenants().contains(TENANT);
        if (tenant) {
            for (String ns : admin.namespaces().getNamespaces(TENANT)) {
                Set<String> replication = new LinkedHashSet<>(admin.namespaces().getNamespaceReplicationClusters(ns));
                if (replication.remove(partyId)) {
                    replication.add(localParty);
                    admin.namespaces().setNamespaceReplicationClusters(ns, replication);
                    changed = true;
                }
            }
        }
        if (admin.clusters().getClusters().contains(partyId)) {
            try {
                admin.clusters().deleteCluster(partyId);
            } catch (PulsarAdminException.NotFoundException e) {
                // deleted concurrently: fine
            }
            changed = true;
        }
        if (tenant) {
            TenantInfo info = admin.tenants().getTenantInfo(TENANT);
            Set<String> allowed = new HashSet<>(info.getAllowedClusters());
            if (allowed.remove(partyId)) {
                admin.tenants().updateTenant(TENANT, TenantInfo.builder().adminRoles(info.getAdminRoles())
                        .allowedClusters(allowed).build());
                changed = true;
            }
        }
        return changed;
    }

    /**
     * The remote parties this broker federates with: the clusters {@code fl-tenant} allows or any of its namespaces
     * replicates to, without the local party. Empty when the tenant does not exist.
     */
    public Set<String> federatedClusters() throws PulsarAdminException {
        Set<String> clusters = new TreeSet<>();
        if (!admin.tenants().getTenants().contains(TENANT)) {
            return clusters;
        }
        clusters.addAll(admin.tenants().getTenantInfo(TENANT).getAllowedClusters());
        for (String ns : admin.namespaces().getNamespaces(TENANT)) {
            clusters.addAll(admin.namespaces().getNamespaceReplicationClusters(ns));
        }
        clusters.remove(localParty);
        return clusters;
    }

    /** Adds {@code clusters} to the tenant's allowed clusters, creating the tenant; returns whether it changed. */
    private boolean allowOnTenant(Set<String> clusters) throws PulsarAdminException {
        if (!admin.tenants().getTenants().contains(TENANT)) {
            try {
                admin.tenants().createTenant(TENANT, TenantInfo.builder().allowedClusters(new HashSet<>(clusters))
                        .build());
                return true;
            } catch (PulsarAdminException.ConflictException e) {
                // created concurrently: fall through and complete it
            }
        }
        TenantInfo info = admin.tenants().getTenantInfo(TENANT);
        Set<String> allowed = new HashSet<>(info.getAllowedClusters());
        if (allowed.containsAll(clusters)) {
            return false;
        }
        allowed.addAll(clusters);
        admin.tenants().updateTenant(TENANT, TenantInfo.builder().adminRoles(info.getAdminRoles())
                .allowedClusters(allowed).build());
        return true;
    }

    /** The model's cluster metadata as Pulsar's admin type, for {@code admin.clusters().createCluster(name, data)}. */
    public static ClusterData clusterData(ClusterMetadata m) {
        var b = ClusterData.builder()
                .serviceUrl(m.serviceUrl()).serviceUrlTls(m.serviceUrlTls())
                .brokerServiceUrl(m.brokerServiceUrl()).brokerServiceUrlTls(m.brokerServiceUrlTls())
                .proxyServiceUrl(m.proxyServiceUrl())
                .peerClusterNames(new LinkedHashSet<>());
        if (m.proxyProtocol() != null) {
            b.proxyProtocol(org.apache.pulsar.client.api.ProxyProtocol.valueOf(m.proxyProtocol()));
        }
        Map<String, Object> tls = m.tls();
        if (!tls.isEmpty()) {
            b.brokerClientTlsEnabled(true).tlsAllowInsecureConnection(false)
                    .brokerClientTrustCertsFilePath((String) tls.get("brokerClientTrustCertsFilePath"));
            if (tls.containsKey("brokerClientCertificateFilePath")) {
                b.brokerClientCertificateFilePath((String) tls.get("brokerClientCertificateFilePath"))
                        .brokerClientKeyFilePath((String) tls.get("brokerClientKeyFilePath"));
            }
        }
        return b.build();
    }

    private void requireRemote(String partyId) {
        if (partyId.equals(localParty)) {
            throw new IllegalArgumentException("party " + partyId + " is the local cluster; it registers itself");
        }
    }

    /** The clusters the local broker knows. */
    public List<String> clusters() throws PulsarAdminException {
        return new ArrayList<>(admin.clusters().getClusters());
    }
}
