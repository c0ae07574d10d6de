package io.fedlink.sni;

/** {@link RouteRemovalIT}'s cases on the in-memory transport. */
class RouteRemovalInMemoryIT extends RouteRemovalIT {
    @Override
    Net newNet() {
        return Net.memory();
    }
}
