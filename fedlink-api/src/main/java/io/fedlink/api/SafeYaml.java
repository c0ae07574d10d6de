package io.fedlink.api;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The one way fedlink loads YAML it is handed (route files, FATE route tables, federation descriptions): plain maps,
 * lists and scalars only (no custom types), duplicate keys refused, at most 10 aliases per collection, and a size cap
 * in code points. A syntax error becomes an {@link IllegalArgumentException} whose message starts
 * {@code not valid YAML:} with the parser's first line; its cause keeps the line and column for callers that show them.
 */
public final class SafeYaml {
    /** The default cap: 1 MiB of text, far beyond any real route table. */
    public static final int MAX_CODE_POINTS = 1 << 20;

    private SafeYaml() {}

    /** Loads {@code yaml} under the default cap. */
    public static Object load(String yaml) {
        return load(yaml, MAX_CODE_POINTS);
    }

    /** Loads {@code yaml}, refusing text longer than {@code maxCodePoints}. */
    public static Object load(String yaml, int maxCodePoints) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(10);
        options.setCodePointLimit(maxCodePoints);
        try {
            return new Yaml(new SafeConstructor(options)).load(yaml);
        } catch (YAMLException e) {
            String m = String.valueOf(e.getMessage());
            int nl = m.indexOf('\n');
            throw new IllegalArgumentException("not valid YAML: " + (nl < 0 ? m : m.substring(0, nl)), e);
        }
    }
}
