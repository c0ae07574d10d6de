package io.fedlink.sni;

/** {@link ProxyProtocolInIT}'s cases on the in-memory transport. */
class ProxyProtocolInInMemoryIT extends ProxyProtocolInIT {
    @Override
    Net newNet() {
        return Net.memory();
    }
}
