package io.fedlink.sni;

/** {@link CloseTunnelsIT}'s cases on the in-memory transport: TLS clients, proxy and TLS servers in a MemoryNetwork. */
class CloseTunnelsInMemoryIT extends CloseTunnelsIT {
    @Override
    Net newNet() {
        return Net.memory();
    }
}
