package io.fedlink.registry;

import io.fedlink.federation.FederationSettings;
import io.fedlink.federation.Party;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns raw registry values (etcd key -> bytes) into a {@link FederationSnapshot}: the settings first, then each party
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
    FederationSnapshot decode(Map<String, byte[]> values, long revision) {
        return decode(values, revision, null);
    }

    /**
     * Decodes a full read of the prefix; when the stored settings are invalid (not absent), {@code lastGood}
     * stands in for them, so one bad write does not empty a proxy's table.
     */
    FederationSnapshot decode(Map<String, byte[]> values, long revision, FederationSettings lastGood) {
        SortedMap<String, String> skipped = new TreeMap<>();
        byte[] stored = values.get(keys.settingsKey());
        FederationSettings settings = settings(stored, skipped);
        if (settings == null && stored != null && lastGood != null) {
            settings = lastGood;
        }
        SortedMap<String, Party> parties = new TreeMap<>();
        for (Map.Entry<String, byte[]> e : values.entrySet()) {
            if (keys.isPartyKey(e.getKey())) {
                Party p = party(e.getKey(), e.getValue(), settings, skipped);
                if (p != null) {
                    parties.put(p.key(), p);
                }
            }
        }
        return new FederationSnapshot(keys, settings, parties, skipped, revision);
    }

    /** The settings, or {@code null} (absent, or invalid: then recorded in {@code skipped}). */
    FederationSettings settings(byte[] value, Map<String, String> skipped) {
        if (value == null) {
            return null;
        }
        try {
            return FederationJson.settings("settings " + keys.settingsKey(), value);
        } catch (IllegalArgumentException e) {
            skip(keys.settingsKey(), e.getMessage(), skipped);
            return null;
        }
    }

    /** One party, or {@code null} when it is invalid (recorded in {@code skipped}) or there are no settings. */
    Party party(String key, byte[] value, FederationSettings settings, Map<String, String> skipped) {
        if (settings == null) {
            skip(key, "the federation has no valid settings to check it against", skipped);
            return null;
        }
        try {
            return FederationJson.party("party " + key, value, keys.partyKeyId(key), settings);
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
