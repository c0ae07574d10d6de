package io.fedlink.registry;

import io.fedlink.api.HostNames;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns raw registry values (etcd key -> bytes) into a {@link Federation}: the settings first, then each party
 * validated against them. A value that fails is skipped with one WARN line naming its key and the reason; the rest
 * is kept. Keys under the prefix that are neither settings nor parties are ignored (room for later additions).
 */
final class FederationDecoder {
    private static final Logger log = LoggerFactory.getLogger(FederationDecoder.class);

    private final RegistryKeys keys;

    FederationDecoder(RegistryKeys keys) {
        this.keys = keys;
    }

    /** Decodes a full read of the prefix. */
    Federation decode(Map<String, byte[]> values, long revision) {
        return decode(values, revision, null);
    }

    /**
     * Decodes a full read of the prefix; when the stored settings are invalid (not absent), {@code lastGood}
     * stands in for them, so one bad write does not empty a proxy's table.
     */
    Federation decode(Map<String, byte[]> values, long revision, FederationSettings lastGood) {
        SortedMap<String, String> skipped = new TreeMap<>();
        byte[] stored = values.get(keys.settingsKey());
        FederationSettings settings = settings(stored, skipped);
        if (settings == null && stored != null && lastGood != null) {
            settings = lastGood;
        }
        Map<String, PartyEntry> candidates = new TreeMap<>();
        for (Map.Entry<String, byte[]> e : values.entrySet()) {
            if (keys.isPartyKey(e.getKey())) {
                PartyEntry p = candidate(e.getKey(), e.getValue(), settings, skipped);
                if (p != null) {
                    candidates.put(e.getKey(), p);
                }
            }
        }
        SortedMap<String, PartyEntry> parties = new TreeMap<>();
        if (candidates.isEmpty()) {
            return new Federation(keys, settings, parties, skipped, revision);
        }
        try {
            // One pass of FATE's reader for all parties; only when it refuses is each party checked alone.
            PartyEntry.checked(candidates.values(), settings).forEach(p -> parties.put(p.key(), p));
        } catch (IllegalArgumentException e) {
            for (Map.Entry<String, PartyEntry> c : candidates.entrySet()) {
                PartyEntry p = check(c.getKey(), c.getValue(), settings, skipped);
                if (p != null) {
                    parties.put(p.key(), p);
                }
            }
        }
        return new Federation(keys, settings, parties, skipped, revision);
    }

    /** The settings, or {@code null} (absent, or invalid: then recorded in {@code skipped}). */
    FederationSettings settings(byte[] value, Map<String, String> skipped) {
        if (value == null) {
            return null;
        }
        try {
            return FederationSettings.fromJson("settings " + keys.settingsKey(), value);
        } catch (IllegalArgumentException e) {
            skip(keys.settingsKey(), e.getMessage(), skipped);
            return null;
        }
    }

    /** One party, or {@code null} when it is invalid (recorded in {@code skipped}) or there are no settings. */
    PartyEntry party(String key, byte[] value, FederationSettings settings, Map<String, String> skipped) {
        PartyEntry c = candidate(key, value, settings, skipped);
        return c == null ? null : check(key, c, settings, skipped);
    }

    /** The cheap checks: JSON, fields, and the id matching its key. */
    private PartyEntry candidate(String key, byte[] value, FederationSettings settings, Map<String, String> skipped) {
        if (settings == null) {
            skip(key, "the federation has no valid settings to check it against", skipped);
            return null;
        }
        try {
            PartyEntry p = PartyEntry.uncheckedFromJson("party " + key, value, settings);
            if (!p.key().equals(keys.partyKeyId(key))) {
                throw new IllegalArgumentException("party " + key + ": id " + HostNames.quote(p.id())
                        + " does not match its key");
            }
            return p;
        } catch (IllegalArgumentException e) {
            skip(key, e.getMessage(), skipped);
            return null;
        }
    }

    private static PartyEntry check(String key, PartyEntry candidate, FederationSettings settings,
                                    Map<String, String> skipped) {
        try {
            return RegistryJson.in("party " + key, () -> PartyEntry.checked(List.of(candidate), settings).get(0));
        } catch (IllegalArgumentException e) {
            skip(key, e.getMessage(), skipped);
            return null;
        }
    }

    private static void skip(String key, String reason, Map<String, String> skipped) {
        if (skipped.put(key, reason) == null) {
            log.warn("registry value at {} skipped: {}", key, reason);
        }
    }
}
