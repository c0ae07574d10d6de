package io.fedlink.bundle;

import java.nio.file.Path;
import java.util.List;

/**
 * What a bundle wrote: its folder and every file, in the order written. Holds names only, never content, so it is
 * safe to print.
 *
 * @param dir   the folder
 * @param files the files written, in order
 */
public record WrittenBundle(Path dir, List<Path> files) {
    /** Copies the list. */
    public WrittenBundle {
        files = List.copyOf(files);
    }

    /** The written file called {@code name}. */
    public Path file(String name) {
        return files.stream().filter(f -> f.getFileName().toString().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("this bundle wrote no file " + name));
    }
}
