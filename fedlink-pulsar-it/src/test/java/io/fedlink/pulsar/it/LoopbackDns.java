package io.fedlink.pulsar.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A DNS responder on 127.0.0.1 (UDP, a free port) that answers A queries for a fixed set of names and nothing else:
 * the test's stand-in for the {@code /etc/hosts} lines a FATE host has for its own broker's advertised name. Pulsar's
 * binary client resolves the broker URL a lookup returns with Netty's resolver, which neither a JDK hosts file nor a
 * mock reaches; {@code ClientBuilder.dnsServerAddresses} points it here, so no lookup leaves the machine.
 * A name it does not know gets NXDOMAIN; a known name asked for another type gets an empty answer.
 */
final class LoopbackDns implements AutoCloseable {
    private final DatagramSocket socket;
    private final Map<String, InetAddress> names;
    private final Thread thread;
    final AtomicLong answered = new AtomicLong();

    private LoopbackDns(DatagramSocket socket, Map<String, InetAddress> names) {
        this.socket = socket;
        this.names = Map.copyOf(names);
        this.thread = new Thread(this::serve, "loopback-dns");
        thread.setDaemon(true);
    }

    /** Starts answering {@code names} (lower case, no trailing dot) with their IPv4 addresses. */
    static LoopbackDns start(Map<String, InetAddress> names) throws SocketException {
        LoopbackDns dns = new LoopbackDns(new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                0)), names);
        dns.thread.start();
        return dns;
    }

    InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    private void serve() {
        byte[] buf = new byte[512];
        while (!socket.isClosed()) {
            DatagramPacket in = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(in);
                byte[] out = answer(ByteBuffer.wrap(in.getData(), 0, in.getLength()));
                if (out != null) {
                    socket.send(new DatagramPacket(out, out.length, in.getSocketAddress()));
                }
            } catch (IOException | RuntimeException e) {
                if (socket.isClosed()) {
                    return;
                } // else a malformed query: dropped
            }
        }
    }

    /** The response to one query (RFC 1035 4.1), or null for anything but one standard question. */
    private byte[] answer(ByteBuffer q) {
        int id = q.getShort() & 0xffff;
        int flags = q.getShort() & 0xffff;
        int questions = q.getShort() & 0xffff;
        if ((flags & 0x8000) != 0 || questions != 1) {
            return null;
        }
        q.position(12);
        StringBuilder name = new StringBuilder();
        for (int len = q.get() & 0xff; len != 0; len = q.get() & 0xff) {
            if (len > 63) {
                return null; // no compression in a question
            }
            byte[] label = new byte[len];
            q.get(label);
            name.append(name.length() == 0 ? "" : ".").append(new String(label, java.nio.charset.StandardCharsets
                    .US_ASCII));
        }
        int type = q.getShort() & 0xffff;
        q.getShort(); // class
        int questionEnd = q.position();
        InetAddress a = names.get(name.toString().toLowerCase(Locale.ROOT));
        boolean answers = a != null && type == 1;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer h = ByteBuffer.allocate(12).putShort((short) id)
                .putShort((short) (0x8080 | (flags & 0x0100) | (a == null ? 3 : 0)))
                .putShort((short) 1).putShort((short) (answers ? 1 : 0)).putShort((short) 0).putShort((short) 0);
        out.write(h.array(), 0, 12);
        out.write(q.array(), q.arrayOffset() + 12, questionEnd - 12);
        if (answers) {
            ByteBuffer r = ByteBuffer.allocate(16).putShort((short) 0xc00c).putShort((short) 1).putShort((short) 1)
                    .putInt(60).putShort((short) 4).put(a.getAddress());
            out.write(r.array(), 0, 16);
            answered.incrementAndGet();
        }
        return out.toByteArray();
    }

    @Override
    public void close() {
        socket.close();
    }
}
