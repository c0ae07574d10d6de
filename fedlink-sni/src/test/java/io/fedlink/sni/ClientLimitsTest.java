package io.fedlink.sni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fedlink.api.RefusalReason;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;

/** The per-client table on a clock the test drives: concurrency, token bucket, bounded size. */
class ClientLimitsTest {
    private static final long SECOND = 1_000_000_000L;

    private static InetAddress ip(int last) throws UnknownHostException {
        return InetAddress.getByAddress(new byte[] {10, 0, 0, (byte) last});
    }

    @Test
    void concurrentConnectionsPerAddress() throws Exception {
        ClientLimits l = new ClientLimits(2, 0, 100);
        assertNull(l.admit(ip(1), 0));
        assertNull(l.admit(ip(1), 0));
        assertEquals(RefusalReason.CLIENT_CONNECTION_LIMIT, l.admit(ip(1), 0));
        assertNull(l.admit(ip(2), 0), "another address is not affected");
        l.release(ip(1), 0);
        assertNull(l.admit(ip(1), 0));
        l.release(ip(1), 0);
        l.release(ip(1), 0);
        l.release(ip(2), 0);
        assertEquals(0, l.size(), "nothing remembered once all are closed");
    }

    @Test
    void newConnectionsPerSecondAsATokenBucket() throws Exception {
        ClientLimits l = new ClientLimits(0, 2, 100);
        assertNull(l.admit(ip(1), 0));
        assertNull(l.admit(ip(1), 0));
        assertEquals(RefusalReason.CLIENT_RATE_LIMIT, l.admit(ip(1), 0), "burst of one second's worth spent");
        assertNull(l.admit(ip(2), 0));
        assertNull(l.admit(ip(1), SECOND / 2), "half a second refills one");
        assertEquals(RefusalReason.CLIENT_RATE_LIMIT, l.admit(ip(1), SECOND / 2));
        for (int i = 0; i < 3; i++) {
            l.release(ip(1), 2 * SECOND);
        }
        l.release(ip(2), 2 * SECOND);
        assertEquals(0, l.size(), "closed and refilled: forgotten");
    }

    @Test
    void theTableIsBoundedAndIdleEntriesAreEvicted() throws Exception {
        ClientLimits l = new ClientLimits(0, 1, 3);
        for (int i = 1; i <= 3; i++) {
            assertNull(l.admit(ip(i), 0));
            l.release(ip(i), 0); // closed, bucket still refilling: remembered
        }
        assertEquals(3, l.size());
        assertEquals(RefusalReason.CLIENT_RATE_LIMIT, l.admit(ip(4), 0), "full of entries that still matter");
        assertEquals(3, l.size());
        assertNull(l.admit(ip(4), 5 * SECOND), "later the idle ones are swept");
        assertEquals(1, l.size());
    }
}
