package io.fedlink.sni;

import io.fedlink.api.RouteTable;
import io.fedlink.api.TunnelServer;
import io.fedlink.api.TunnelServerConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;

/** Proxies on loopback for the integration tests, and everything a test opens, closed after each test. */
abstract class ProxyFixture {
    private final List<AutoCloseable> closeAfter = new ArrayList<>();

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
        return keep(b.start());
    }
}
