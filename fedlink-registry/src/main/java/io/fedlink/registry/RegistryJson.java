package io.fedlink.registry;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedlink.api.HostNames;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Set;

/**
 * The registry's JSON rules, in one place: values are UTF-8 JSON objects of at most {@link #MAX_VALUE_BYTES} with a
 * {@code "version"} field equal to {@link #VERSION}; duplicate keys, unknown keys and wrongly typed fields are refused
 * with a message naming the key.
 */
final class RegistryJson {
    /** The format version this code writes and reads. */
    static final int VERSION = 1;
    /** Largest value accepted. */
    static final int MAX_VALUE_BYTES = 64 * 1024;

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(8)
                .maxStringLength(MAX_VALUE_BYTES).build());
    }

    private RegistryJson() {}

    /** A new object carrying the version field. */
    static ObjectNode object() {
        return MAPPER.createObjectNode().put("version", VERSION);
    }

    /** Compact JSON text. */
    static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Parses a value as an object of the current version whose keys are all in {@code allowed}.
     *
     * @param what names the value in errors, e.g. "party '10000'"
     */
    static ObjectNode parse(String what, byte[] value, Set<String> allowed) {
        if (value.length > MAX_VALUE_BYTES) {
            throw new IllegalArgumentException(what + ": value of " + value.length + " bytes is larger than "
                    + MAX_VALUE_BYTES);
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(value);
        } catch (java.io.IOException e) {
            String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw new IllegalArgumentException(what + ": not valid JSON: " + HostNames.quote(m));
        }
        if (!(node instanceof ObjectNode o)) {
            throw new IllegalArgumentException(what + ": expected a JSON object, found "
                    + HostNames.quote(new String(value, StandardCharsets.UTF_8)));
        }
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("version") && !allowed.contains(k)) {
                throw new IllegalArgumentException(what + ": unknown field " + HostNames.quote(k) + " (allowed: "
                        + allowed.stream().sorted().toList() + ")");
            }
        }
        JsonNode v = o.get("version");
        if (v == null || !v.isInt() || v.intValue() != VERSION) {
            throw new IllegalArgumentException(what + ": \"version\" must be " + VERSION + ", found "
                    + (v == null ? "none" : HostNames.quote(v.toString()))
                    + (v != null && v.isInt() && v.intValue() > VERSION ? " (written by a newer fedlink)" : ""));
        }
        return o;
    }

    /** Runs {@code check}, prefixing a refusal's message with {@code what}. */
    static <T> T in(String what, java.util.function.Supplier<T> check) {
        try {
            return check.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
        }
    }

    /** A required string field. */
    static String text(String what, ObjectNode o, String key) {
        JsonNode n = o.get(key);
        if (n == null || n.isNull()) {
            throw new IllegalArgumentException(what + ": missing field " + HostNames.quote(key));
        }
        if (!n.isTextual()) {
            throw new IllegalArgumentException(what + ": field " + HostNames.quote(key) + " must be a string, found "
                    + HostNames.quote(n.toString()));
        }
        return n.textValue();
    }

    /** An optional port field: absent means {@code dflt}. */
    static int port(String what, ObjectNode o, String key, int dflt) {
        JsonNode n = o.get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isInt() || n.intValue() < 1 || n.intValue() > 65535) {
            throw new IllegalArgumentException(what + ": field " + HostNames.quote(key) + " must be a port 1..65535, "
                    + "found " + HostNames.quote(n.toString()));
        }
        return n.intValue();
    }
}
