package io.fedlink.bundle;

import io.fedlink.api.SecureFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the files of one bundle into one folder (created with mode 0700) and remembers them in order: secrets
 * (keys, key stores, passwords, config holding passwords) with mode 0600, certificates with 0644, all atomically.
 */
final class BundleWriter {
    private final Path dir;
    private final List<Path> written = new ArrayList<>();

    BundleWriter(Path dir) throws IOException {
        SecureFiles.privateDirectory(dir);
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    Path secret(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        SecureFiles.writePrivate(p, content);
        return add(p);
    }

    Path secret(String name, KeyStore store, char[] password) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            store.store(out, password);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot write key store " + name + ": " + e.getMessage(), e);
        }
        Path p = dir.resolve(name);
        SecureFiles.writePrivate(p, out.toByteArray());
        return add(p);
    }

    Path password(String name, char[] password) throws IOException {
        Path p = dir.resolve(name);
        Passwords.write(p, password);
        return add(p);
    }

    Path plain(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        SecureFiles.writePublic(p, content);
        return add(p);
    }

    private Path add(Path p) {
        written.add(p);
        return p;
    }

    /** The files written so far, in order. */
    List<Path> written() {
        return List.copyOf(written);
    }
}
