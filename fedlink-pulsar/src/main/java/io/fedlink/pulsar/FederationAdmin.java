package io.fedlink.pulsar;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.common.policies.data.TenantInfo;

/**
 * Applies a federation to one party's Pulsar with the admin API, as FATE does before a session: a cluster entry for
 * every remote party (FATE's {@link ClusterMetadata}), the tenant {@code fl-tenant} allowed on all of them, and a
 * namespace replicated to the session's parties. Every step is idempotent: existing clusters are updated, an existing
 * tenant gains missing clusters, an existing namespace gets the replication set.
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
        if (partyId.equals(localParty)) {
            throw new IllegalArgumentException("party " + partyId + " is the local cluster; it registers itself");
        }
        List<String> existing = admin.clusters().getClusters();
        if (existing.contains(partyId)) {
            admin.clusters().updateCluster(partyId, metadata.toClusterData());
        } else {
            admin.clusters().createCluster(partyId, metadata.toClusterData());
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
        if (admin.tenants().getTenants().contains(TENANT)) {
            TenantInfo info = admin.tenants().getTenantInfo(TENANT);
            Set<String> allowed = new HashSet<>(info.getAllowedClusters());
            if (!allowed.containsAll(clusters)) {
                allowed.addAll(clusters);
                admin.tenants().updateTenant(TENANT, TenantInfo.builder().adminRoles(info.getAdminRoles())
                        .allowedClusters(allowed).build());
            }
        } else {
            admin.tenants().createTenant(TENANT, TenantInfo.builder().allowedClusters(new HashSet<>(clusters))
                    .build());
        }
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

    /** The clusters the local broker knows. */
    public List<String> clusters() throws PulsarAdminException {
        return new ArrayList<>(admin.clusters().getClusters());
    }
}
