package io.fedlink.registry;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import io.fedlink.api.HostNames;
import io.fedlink.federation.Federation;
import io.fedlink.federation.FederationSettings;
import io.fedlink.federation.Party;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The operator's side of the registry: read a federation, initialise its settings, add, replace and remove parties.
 *
 * <p>Every write is validated first (the rules of FATE's route table and of the proxy's routes, see
 * {@link Party}) and then stored in one etcd transaction that compares the mod revisions it was validated
 * against (the settings and the party's key): a concurrent writer makes the compare fail, the write is re-read,
 * re-validated and retried a few times, and a write that times out can never be applied over a newer value. Nothing
 * is half-written: a refusal stores nothing. Every call has the connection's deadline.
 */
public final class FederationRegistry {
    private static final int ATTEMPTS = 5;

    private final EtcdConnection etcd;
    private final RegistryKeys keys;
    private final FederationDecoder decoder;

    /** A registry client for one federation; the caller owns the connection. */
    public FederationRegistry(EtcdConnection etcd, RegistryKeys keys) {
        this.etcd = etcd;
        this.keys = keys;
        this.decoder = new FederationDecoder(keys);
    }

    /** The key layout. */
    public RegistryKeys keys() {
        return keys;
    }

    /** Reads the whole federation (a {@linkplain EtcdConnection#readPrefix paged read} of its prefix, at one revision). */
    public FederationSnapshot read() throws RegistryUnavailableException {
        return readRaw().federation;
    }

    /**
     * Creates the federation's settings, or changes them when {@code replace}. Returns whether anything was written
     * (settings equal to the stored ones write nothing).
     *
     * @throws IllegalArgumentException when the federation exists with other settings and {@code replace} is false,
     *                                  or a stored party would be invalid under the new settings
     */
    public boolean init(FederationSettings settings, boolean replace) throws RegistryUnavailableException {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Raw raw = readRaw();
            FederationSettings old = raw.federation.settings();
            if (settings.equals(old)) {
                return false;
            }
            if (raw.settingsModRevision != 0 && !replace) {
                throw new IllegalArgumentException("federation " + HostNames.quote(keys.federation())
                        + " already exists (" + (old == null ? "invalid settings" : old) + "); give --replace to "
                        + "change its settings");
            }
            Federation.of(settings, raw.federation.parties().values()); // stored parties stay valid
            if (commit("initialise federation " + keys.federation(), keys.settingsKey(), raw.settingsModRevision,
                    keys.settingsKey(), raw.settingsModRevision, FederationJson.bytes(settings))) {
                return true;
            }
        }
        throw contended();
    }

    /**
     * Adds a party, or replaces it when {@code replace}.
     *
     * @throws IllegalArgumentException naming the bad value, or when the party exists and {@code replace} is false
     * @throws IllegalStateException    when the federation has no settings, or etcd refuses the write
     */
    public Party putParty(String id, String host, int port, int sslPort, List<String> allow, boolean replace)
            throws RegistryUnavailableException {
        return putParty(id, host, port, sslPort, allow, List.of(), replace);
    }

    /**
     * Adds a party with its egress networks (where its own connections come from; see
     * {@link Party#of(String, String, int, int, List, List, FederationSettings)}), or replaces it when
     * {@code replace}.
     *
     * @throws IllegalArgumentException naming the bad value, or when the party exists and {@code replace} is false
     * @throws IllegalStateException    when the federation has no settings, or etcd refuses the write
     */
    public Party putParty(String id, String host, int port, int sslPort, List<String> allow,
                               List<String> egress, boolean replace) throws RegistryUnavailableException {
        return putParty(id, host, port, sslPort, allow, egress, false, replace);
    }

    /**
     * Adds a party, or replaces it when {@code replace}; with {@code viaAgent}, every proxy reaches it through its
     * agent ({@link Party#reachedThroughAgent()}: the party opens no inbound port).
     *
     * @throws IllegalArgumentException naming the bad value, or when the party exists and {@code replace} is false
     * @throws IllegalStateException    when the federation has no settings, or etcd refuses the write
     */
    public Party putParty(String id, String host, int port, int sslPort, List<String> allow,
                          List<String> egress, boolean viaAgent, boolean replace) throws RegistryUnavailableException {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Raw raw = readRaw();
            FederationSettings settings = requireSettings(raw);
            Party direct = Party.of(id, host, port, sslPort, allow, egress, settings);
            Party p = viaAgent ? direct.reachedThroughAgent() : direct;
            String key = keys.partyKey(id);
            long seen = raw.modRevisions.getOrDefault(key, 0L);
            if (seen != 0 && !replace) {
                Party old = raw.federation.party(id);
                throw new IllegalArgumentException("party " + HostNames.quote(id) + " already exists in federation "
                        + HostNames.quote(keys.federation()) + " (" + (old == null ? "invalid value" : old)
                        + "); party ids are compared ignoring case; give --replace to change it");
            }
            Map<String, Party> next = new HashMap<>(raw.federation.parties());
            next.put(p.key(), p);
            Federation.of(settings, next.values()).routeTable(); // the proxy's table must still build
            if (commit("write party " + id, keys.settingsKey(), raw.settingsModRevision, key, seen, FederationJson.bytes(p))) {
                return p;
            }
        }
        throw contended();
    }

    /**
     * Removes a party.
     *
     * @throws IllegalArgumentException when the federation has no such party
     */
    public void removeParty(String id) throws RegistryUnavailableException {
        String key = keys.partyKey(id);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Raw raw = readRaw();
            long seen = raw.modRevisions.getOrDefault(key, 0L);
            if (seen == 0) {
                throw new IllegalArgumentException("federation " + HostNames.quote(keys.federation())
                        + " has no party " + HostNames.quote(id));
            }
            TxnResponse r = etcd.call("remove party " + id, etcd.client().getKVClient().txn()
                    .If(new Cmp(RegistryKeys.bytes(key), Cmp.Op.EQUAL, CmpTarget.modRevision(seen)))
                    .Then(Op.delete(RegistryKeys.bytes(key), DeleteOption.DEFAULT)).commit());
            if (r.isSucceeded()) {
                return;
            }
        }
        throw contended();
    }

    private boolean commit(String what, String settingsKey, long settingsSeen, String key, long keySeen, byte[] value)
            throws RegistryUnavailableException {
        List<Cmp> cmps = new ArrayList<>();
        cmps.add(new Cmp(RegistryKeys.bytes(settingsKey), Cmp.Op.EQUAL, CmpTarget.modRevision(settingsSeen)));
        if (!key.equals(settingsKey)) {
            cmps.add(new Cmp(RegistryKeys.bytes(key), Cmp.Op.EQUAL, CmpTarget.modRevision(keySeen)));
        }
        TxnResponse r = etcd.call(what, etcd.client().getKVClient().txn().If(cmps.toArray(Cmp[]::new))
                .Then(Op.put(RegistryKeys.bytes(key), ByteSequence.from(value), PutOption.DEFAULT)).commit());
        return r.isSucceeded();
    }

    private FederationSettings requireSettings(Raw raw) {
        FederationSettings s = raw.federation.settings();
        if (s == null) {
            throw new IllegalStateException("federation " + HostNames.quote(keys.federation()) + " has "
                    + (raw.settingsModRevision == 0 ? "no settings: run 'fedlink federation init' first"
                    : "invalid settings: fix them with 'fedlink federation init --replace'"));
        }
        return s;
    }

    private IllegalStateException contended() {
        return new IllegalStateException("federation " + HostNames.quote(keys.federation()) + " changed "
                + ATTEMPTS + " times while this write was prepared; try again");
    }

    private Raw readRaw() throws RegistryUnavailableException {
        EtcdConnection.PrefixRead r = etcd.readPrefix("read federation " + keys.federation(), keys.prefix());
        Map<String, byte[]> values = new HashMap<>();
        Map<String, Long> mods = new HashMap<>();
        for (KeyValue kv : r.kvs()) {
            String k = RegistryKeys.string(kv.getKey());
            values.put(k, kv.getValue().getBytes());
            mods.put(k, kv.getModRevision());
        }
        return new Raw(decoder.decode(values, r.revision()), mods,
                mods.getOrDefault(keys.settingsKey(), 0L));
    }

    /** A decoded read with the mod revision of every key, for compare-and-set. */
    record Raw(FederationSnapshot federation, Map<String, Long> modRevisions, long settingsModRevision) {}
}
