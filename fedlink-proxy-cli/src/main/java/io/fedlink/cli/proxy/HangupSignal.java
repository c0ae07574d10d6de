package io.fedlink.cli.proxy;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGHUP for {@code fedlink proxy}: re-read the routes at once. The only use of {@code sun.misc.Signal} (module
 * {@code jdk.unsupported}), kept in its own class so that a JVM without it, or one that owns SIGHUP itself
 * ({@code -Xrs}, Windows), still runs the proxy: {@link #install} then says why and returns {@code false}. So it does
 * when the process inherited SIGHUP as ignored ({@code nohup}): the JVM then never delivers it.
 */
final class HangupSignal {
    private static final Logger log = LoggerFactory.getLogger(HangupSignal.class);

    private HangupSignal() {}

    /**
     * Runs {@code action} on every SIGHUP (on a thread of its own per signal; an exception it throws is logged).
     *
     * @return whether the handler is installed
     */
    static boolean install(Runnable action) {
        try {
            return Handler.install(action);
        } catch (LinkageError | RuntimeException e) { // no sun.misc.Signal, or HUP not available here
            log.warn("SIGHUP cannot be handled on this JVM ({}); route changes are picked up by polling only",
                    e.toString());
            return false;
        }
    }

    /** Loaded only when installing: the one class that links against {@code sun.misc}. */
    private static final class Handler {
        static boolean install(Runnable action) {
            sun.misc.SignalHandler before = sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> {
                try {
                    action.run();
                } catch (RuntimeException e) {
                    log.warn("reloading on SIGHUP failed", e);
                }
            });
            if (before == sun.misc.SignalHandler.SIG_IGN) { // inherited as ignored: the JVM keeps it so
                log.warn("SIGHUP is ignored in this process (inherited, e.g. from nohup), so it cannot reload the"
                        + " routes; they are re-read by polling only. Start the proxy without nohup (or with"
                        + " 'env --default-signal=HUP') to reload on SIGHUP");
                return false;
            }
            return true;
        }
    }
}
