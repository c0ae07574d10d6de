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
        ClientLimits l = new ClientLimits(2, 0, 100, 64);
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
    void ipv6ClientsCountByTheirPrefix() throws Exception {
        InetAddress a = InetAddress.getByName("2001:db8:1:2::a");      // literals: no lookup
        InetAddress b = InetAddress.getByName("2001:db8:1:2:ffff::b"); // same /64
        InetAddress c = InetAddress.getByName("2001:db8:1:3::a");      // next /64
        ClientLimits l = new ClientLimits(2, 0, 100, 64);
        assertNull(l.admit(a, 0));
        assertNull(l.admit(b, 0));
        assertEquals(RefusalReason.CLIENT_CONNECTION_LIMIT, l.admit(a, 0), "one /64 is one client");
        assertNull(l.admit(c, 0), "another /64 is not affected");
        l.release(b, 0);
        assertNull(l.admit(a, 0));
        ClientLimits each = new ClientLimits(1, 0, 100, 128);
        assertNull(each.admit(a, 0));
        assertNull(each.admit(b, 0), "/128: every address apart");
        assertEquals(InetAddress.getByName("2001:db8:1:2::"), ClientLimits.key(b, 64));
        assertEquals(InetAddress.getByName("2001:db8:1::"), ClientLimits.key(b, 52));
        assertEquals(InetAddress.getByName("2001:db8::"), ClientLimits.key(b, 33));
        assertEquals(ip(7), ClientLimits.key(ip(7), 1), "IPv4 by address");
    }

    @Test
    void newConnectionsPerSecondAsATokenBucket() throws Exception {
        ClientLimits l = new ClientLimits(0, 2, 100, 64);
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
        ClientLimits l = new ClientLimits(0, 1, 3, 64);
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
