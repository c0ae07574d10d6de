package io.fedlink.sni;

/** {@link ClientLimitsIT}'s cases on the in-memory transport. */
class ClientLimitsInMemoryIT extends ClientLimitsIT {
    @Override
    Net newNet() {
        return Net.memory();
    }
}
