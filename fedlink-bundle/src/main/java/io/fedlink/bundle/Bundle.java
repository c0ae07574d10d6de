package io.fedlink.bundle;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Everything one system needs, ready to write into one folder: certificates, keys, key stores and the config lines
 * that name them. Secrets are written with mode 0600 in a folder with mode 0700, and never returned or logged.
 */
public interface Bundle {
    /** Writes the files into {@code dir} (created if missing); returns their names, in order. */
    WrittenBundle write(Path dir) throws IOException;
}
