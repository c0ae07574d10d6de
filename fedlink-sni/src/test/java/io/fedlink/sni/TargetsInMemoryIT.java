package io.fedlink.sni;

/** {@link TargetsIT}'s cases on the in-memory transport (the active health check needs real sockets). */
class TargetsInMemoryIT extends TargetsIT {
    @Override
    Net newNet() {
        return Net.memory();
    }
}
