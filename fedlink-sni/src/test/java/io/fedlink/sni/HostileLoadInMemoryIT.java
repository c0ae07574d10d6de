package io.fedlink.sni;

/** {@link HostileLoadIT}'s attacks on the connection core, on the in-memory transport (the others are skipped). */
class HostileLoadInMemoryIT extends HostileLoadIT {
    @Override
    Net newNet() {
        return Net.memory();
    }
}
