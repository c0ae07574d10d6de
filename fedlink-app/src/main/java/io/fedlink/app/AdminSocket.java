package io.fedlink.app;

import com.sun.security.auth.module.UnixSystem;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the admin endpoint's Unix socket lives and how its folder is made safe. The socket is the only way in
 * without a token, so it is guarded by the kernel: it lies in a folder that only the proxy's user may enter (mode
 * 0700, owned by that user; a folder with looser modes or another owner is refused, never "fixed"), and is itself
 * mode 0600. A socket file left by a proxy that did not stop cleanly is removed when nothing answers on it; a
 * symbolic link, or anything but a socket, in its place is refused and left alone.
 */
public final class AdminSocket {
    private static final Logger log = LoggerFactory.getLogger(AdminSocket.class);
    static final String FILE = "admin.sock";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private AdminSocket() {}

    /**
     * The default socket: {@code $XDG_RUNTIME_DIR/fedlink/admin.sock} when the session has a runtime folder (e.g.
     * {@code /run/user/UID}), else {@code fedlink-UID/admin.sock} in the system's temporary folder.
     */
    public static Path defaultPath() {
        String runtime = System.getenv("XDG_RUNTIME_DIR");
        if (runtime != null && !runtime.isBlank() && Path.of(runtime).isAbsolute()) {
            return Path.of(runtime, "fedlink", FILE);
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "fedlink-" + uid(), FILE);
    }

    /** The process's user id. */
    static long uid() {
        return new UnixSystem().getUid();
    }

    /**
     * Makes {@code socket}'s folder safe (created 0700 if missing; refused if it is a link, not a folder, another
     * user's, or open to group or others) and clears the way for binding: a stale socket file is removed.
     *
     * @throws IllegalArgumentException naming the path and what to do, when it is not safe or is in use
     */
    static UnixDomainSocketAddress prepare(Path socket) throws IOException {
        Path s = socket.toAbsolutePath();
        Path folder = s.getParent();
        if (!Files.exists(folder, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createDirectory(folder, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException("cannot create the admin socket's folder " + folder + ": "
                        + folder.getParent() + " does not exist (create it, or give --admin-socket elsewhere)");
            }
            Files.setPosixFilePermissions(folder, OWNER_ONLY);
        }
        checkFolder(folder);
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(s);
        if (Files.exists(s, LinkOption.NOFOLLOW_LINKS)) {
            BasicFileAttributes a = Files.readAttributes(s, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (a.isSymbolicLink()) {
                throw new IllegalArgumentException(s + " is a symbolic link, where the admin socket goes: remove it"
                        + " (the proxy never follows or removes a link there), or give another --admin-socket");
            }
            if (!a.isOther()) {
                throw new IllegalArgumentException(s + " is " + (a.isDirectory() ? "a folder" : "a regular file")
                        + ", not a socket: remove it, or give another --admin-socket");
            }
            try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                c.connect(address);
                throw new IllegalArgumentException("another process serves " + s + " (another proxy?): stop it,"
                        + " or give this proxy another --admin-socket");
            } catch (ConnectException e) { // nobody listens: left by a proxy that did not stop cleanly
                Files.delete(s); // unlinks the socket file itself, and only it
                log.info("removed the stale admin socket {} (its proxy did not stop cleanly)", s);
            }
        }
        return address;
    }

    /** Refuses a folder that is a link, not a folder, not the proxy user's, or that group or others may use. */
    private static void checkFolder(Path folder) throws IOException {
        BasicFileAttributes b = Files.readAttributes(folder, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (b.isSymbolicLink() || !b.isDirectory()) {
            throw new IllegalArgumentException("the admin socket's folder " + folder + " is "
                    + (b.isSymbolicLink() ? "a symbolic link" : "not a folder") + ": give --admin-socket in a folder"
                    + " of the proxy's user's own");
        }
        Object owner = Files.getAttribute(folder, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (((Number) owner).longValue() != uid()) {
            throw new IllegalArgumentException("the admin socket's folder " + folder + " belongs to user id " + owner
                    + ", not to the proxy's user (" + uid() + "): another user made it, so it cannot guard the"
                    + " socket; remove it, or give --admin-socket in a folder of your own");
        }
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(folder, LinkOption.NOFOLLOW_LINKS);
        if (!OWNER_ONLY.containsAll(mode)) {
            throw new IllegalArgumentException("the admin socket's folder " + folder + " has mode "
                    + PosixFilePermissions.toString(mode) + ": other users could reach the admin socket; run"
                    + " chmod 700 " + folder + ", or give --admin-socket in another folder");
        }
    }

    /** Narrows a freshly bound socket file to mode 0600 (its folder already keeps others out). */
    static void restrict(Path socket) throws IOException {
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    }
}
