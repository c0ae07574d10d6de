package io.fedlink.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedlink.api.HostNames;
import io.fedlink.api.SecureFiles;
import io.fedlink.federation.Party;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * The proxy's local copy of the last federation it read, to start from while etcd is unreachable. Written
 * atomically with mode 0600 (a temporary file renamed over the old one), holding the valid values as stored in etcd
 * with the revision they were read at; read back through the same decoder as etcd's values, so a tampered file is
 * refused value by value like a bad etcd value. Files over 16 MiB are refused.
 */
final class RouteCacheFile {
    private static final long MAX_BYTES = 16L << 20;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final Path file;

    RouteCacheFile(Path file) {
        this.file = file;
    }

    Path path() {
        return file;
    }

    /** Writes {@code federation}'s settings and valid parties. */
    void write(FederationSnapshot federation) throws IOException {
        ObjectNode root = RegistryJson.object().put("federation", federation.keys().federation())
                .put("prefix", federation.keys().prefix()).put("revision", federation.revision());
        ObjectNode values = root.putObject("values");
        if (federation.settings() != null) {
            values.set(federation.keys().settingsKey(), MAPPER.readTree(FederationJson.bytes(federation.settings())));
        }
        for (Party p : federation.parties().values()) {
            values.set(federation.keys().partyKey(p.id()), MAPPER.readTree(FederationJson.bytes(p)));
        }
        SecureFiles.writePrivate(file, RegistryJson.bytes(root));
    }

    /**
     * Reads the cache for {@code keys}.
     *
     * @throws IOException              when the file cannot be read
     * @throws IllegalArgumentException when it is not a cache of this federation
     */
    FederationSnapshot read(RegistryKeys keys) throws IOException {
        if (Files.size(file) > MAX_BYTES) {
            throw new IllegalArgumentException("route cache " + file + " is larger than " + MAX_BYTES + " bytes");
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("route cache " + file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !keys.federation().equals(root.path("federation").asText(null))
                || !keys.prefix().equals(root.path("prefix").asText(null)) || !root.path("revision").canConvertToLong()
                || !root.path("values").isObject() || root.path("version").asInt() != RegistryJson.VERSION) {
            throw new IllegalArgumentException("route cache " + file + " is not a cache of federation "
                    + HostNames.quote(keys.federation()) + " at " + keys.prefix());
        }
        Map<String, byte[]> values = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.get("values").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().startsWith(keys.prefix())) {
                values.put(e.getKey(), RegistryJson.bytes(e.getValue()));
            }
        }
        return new FederationDecoder(keys).decode(values, root.get("revision").asLong());
    }
}
