package io.fedlink.bundle;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/** Ordered {@code key: value} lines of a YAML config file; values that are not plain words are single-quoted. */
final class ConfigLines {
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./,-]+");
    private final Map<String, String> lines = new LinkedHashMap<>();

    ConfigLines put(String key, Object value) {
        lines.put(key, String.valueOf(value));
        return this;
    }

    String yaml(String header) {
        StringBuilder sb = new StringBuilder(header);
        lines.forEach((k, v) -> sb.append(k).append(": ").append(quote(v)).append('\n'));
        return sb.toString();
    }

    static String quote(String v) {
        return PLAIN.matcher(v).matches() && !v.startsWith("-") ? v : "'" + v.replace("'", "''") + "'";
    }
}
