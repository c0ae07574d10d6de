package io.fedlink.sni;

/** {@link SniProxyBehaviourIT}'s cases on the in-memory transport: clients, proxy and targets in a MemoryNetwork. */
class SniProxyBehaviourInMemoryIT extends SniProxyBehaviourIT {
    @Override
    Net newNet() {
        return Net.memory();
    }
}
