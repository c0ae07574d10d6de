package io.fedlink.api;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A do-nothing transport registered for {@link TunnelsTest} through META-INF/services. */
public class FakeTransport implements TunnelTransport {
    static volatile TunnelServer last;

    @Override
    public String name() {
        return "fake";
    }

    @Override
    public TunnelServer start(TunnelServerConfig config) {
        last = new TunnelServer() {
            @Override
            public InetSocketAddress localAddress() {
                return config.bindAddress();
            }

            @Override
            public List<Tunnel> tunnels() {
                return List.of();
            }

            @Override
            public TunnelStats stats() {
                return new TunnelStats(0, 0, Map.of(), 0, 0, 0, 0, 0, 0);
            }

            @Override
            public RouteTable routes() {
                return config.routes().current();
            }

            @Override
            public void routes(RouteTable next) {
                config.routes().swap(next);
            }

            @Override
            public boolean close(Duration grace) {
                return true;
            }

            @Override
            public void close() {}
        };
        return last;
    }
}
