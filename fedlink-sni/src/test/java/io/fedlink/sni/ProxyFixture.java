package io.fedlink.sni;

import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServer;
import io.fedlink.api.TunnelServerConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;

/**
 * Proxies for the integration tests, on the {@link Net} the test class chose (loopback sockets unless a subclass runs
 * the same cases in memory), and everything a test opens, closed after each test.
 */
abstract class ProxyFixture {
    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    /** Where this test's proxies, clients and targets live. */
    final Net net = keep(newNet());

    /** The net of each test: loopback sockets; a subclass running the same cases in memory returns a memory one. */
    Net newNet() {
        return Net.nio();
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (int i = closeAfter.size() - 1; i >= 0; i--) {
            closeAfter.get(i).close();
        }
    }

    /** Closes {@code t} after the test, in reverse order of keeping. */
    <T extends AutoCloseable> T keep(T t) {
        closeAfter.add(t);
        return t;
    }

    /** A proxy on 127.0.0.1 with two loops, tweaked by the test. */
    TunnelServer proxy(RouteTable routes, Consumer<TunnelServerConfig.Builder> tweak) throws IOException {
        TunnelServerConfig.Builder b = SniProxy.builder().bindLoopback(0).eventLoops(2).routes(routes);
        tweak.accept(b);
        return keep(net.start(b));
    }

    /** A proxy started from {@code b} on this test's net, closed after the test. */
    TunnelServer start(TunnelServerConfig.Builder b) throws IOException {
        return keep(net.start(b));
    }
}
