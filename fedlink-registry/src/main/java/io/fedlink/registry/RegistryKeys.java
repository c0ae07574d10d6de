package io.fedlink.registry;

import io.etcd.jetcd.ByteSequence;
import io.fedlink.api.HostNames;
import java.nio.charset.StandardCharsets;

/**
 * Where a federation lives in etcd: everything under one prefix (default {@code /fedlink/<federation>/}), the
 * settings at {@code <prefix>settings} and each party at {@code <prefix>parties/<id in lower case>}.
 *
 * @param federation the federation's name: letters, digits, '-' and '_' (1..63)
 * @param prefix     the key prefix, ending with '/'
 */
public record RegistryKeys(String federation, String prefix) {
    private static final String PARTIES = "parties/";

    /** Validates the name and prefix. */
    public RegistryKeys {
        if (federation == null || !federation.matches("[A-Za-z0-9_-]{1,63}")) {
            throw new IllegalArgumentException("invalid federation name " + HostNames.quote(federation)
                    + ": use letters, digits, '-' and '_' (1..63)");
        }
        if (prefix == null || !prefix.startsWith("/") || !prefix.endsWith("/") || prefix.length() > 512) {
            throw new IllegalArgumentException("invalid key prefix " + HostNames.quote(prefix)
                    + ": it starts and ends with '/'");
        }
    }

    /** The default layout: {@code /fedlink/<federation>/}. */
    public static RegistryKeys of(String federation) {
        return new RegistryKeys(federation, "/fedlink/" + federation + "/");
    }

    /** The settings key. */
    public String settingsKey() {
        return prefix + "settings";
    }

    /** The key of a party (ids are compared case-insensitively). */
    public String partyKey(String partyId) {
        return prefix + PARTIES + partyId.toLowerCase(java.util.Locale.ROOT);
    }

    /** Whether {@code key} is a party key of this federation. */
    boolean isPartyKey(String key) {
        return key.startsWith(prefix + PARTIES) && key.length() > prefix.length() + PARTIES.length();
    }

    /** The id part of a party key. */
    String partyKeyId(String key) {
        return key.substring(prefix.length() + PARTIES.length());
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    static String string(ByteSequence b) {
        return b.toString(StandardCharsets.UTF_8);
    }
}
