package io.fedlink.bundle;

import io.fedlink.api.FileSet;
import io.fedlink.api.SecureFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the files of one bundle into one folder (created with mode 0700) and remembers them in order: secrets
 * (keys, key stores, passwords, config holding passwords) with mode 0600, certificates with 0644, all atomically.
 * A {@linkplain #staged staged} writer only collects the files; {@link #commit} writes them all or none.
 */
final class BundleWriter {
    private final Path dir;
    private final FileSet staged; // null: each file is written at once
    private final List<Path> written = new ArrayList<>();

    BundleWriter(Path dir) throws IOException {
        this(dir, null);
        SecureFiles.privateDirectory(dir);
    }

    private BundleWriter(Path dir, FileSet staged) {
        this.dir = dir;
        this.staged = staged;
    }

    /** A writer that creates nothing until {@link #commit}: a bundle refused half-way leaves no file behind. */
    static BundleWriter staged(Path dir) {
        return new BundleWriter(dir, new FileSet());
    }

    /**
     * Writes every staged file beside its target, runs {@code step} (saving the CA), then moves them into place;
     * on any failure the new files and folders are removed ({@link FileSet#commit}).
     */
    void commit(FileSet.Step step) throws IOException {
        staged.commit(step);
    }

    Path dir() {
        return dir;
    }

    Path secret(String name, String content) throws IOException {
        return put(name, content.getBytes(StandardCharsets.US_ASCII), true);
    }

    Path secret(String name, KeyStore store, char[] password) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            store.store(out, password);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot write key store " + name + ": " + e.getMessage(), e);
        }
        return put(name, out.toByteArray(), true);
    }

    Path password(String name, char[] password) throws IOException {
        return put(name, Passwords.line(password), true);
    }

    Path plain(String name, String content) throws IOException {
        return put(name, content.getBytes(StandardCharsets.US_ASCII), false);
    }

    private Path put(String name, byte[] content, boolean secret) throws IOException {
        Path p = dir.resolve(name);
        if (staged != null) {
            staged.add(p, content, secret);
        } else if (secret) {
            SecureFiles.writePrivate(p, content);
        } else {
            SecureFiles.writePublic(p, content);
        }
        written.add(p);
        return p;
    }

    /** The files written so far, in order. */
    List<Path> written() {
        return List.copyOf(written);
    }
}
