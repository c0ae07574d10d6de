package io.fedlink.benchmarks;

import io.fedlink.sni.ProxyHeaderParser;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The incoming PROXY header parser, once per connection from a trusted load balancer: v1 text and v2 binary over
 * IPv4 and IPv6, and v2 with a CRC32c TLV as HAProxy's {@code send-proxy-v2-options crc32c} sends it, read from a
 * direct buffer as the proxy reads them ({@code -prof gc} for the allocations).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ProxyHeaderParserBenchmark {
    private static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    @Param({"v1-tcp4", "v1-tcp6", "v2-tcp4", "v2-tcp6", "v2-tcp4-crc32c"})
    public String header;

    private ByteBuffer buffer;
    private int length;

    @Setup
    public void build() {
        byte[] bytes = switch (header) {
            case "v1-tcp4" -> ascii("PROXY TCP4 198.51.100.22 203.0.113.7 35646 443\r\n");
            case "v1-tcp6" -> ascii("PROXY TCP6 2001:db8:85a3::8a2e:370:7334 2001:db8::1 35646 443\r\n");
            case "v2-tcp4" -> v2(0x11, 12, false);
            case "v2-tcp6" -> v2(0x21, 36, false);
            case "v2-tcp4-crc32c" -> v2(0x11, 12, true);
            default -> throw new IllegalArgumentException(header);
        };
        buffer = ByteBuffer.allocateDirect(16 * 1024);
        buffer.put(bytes);
        length = bytes.length;
        ProxyHeaderParser p = new ProxyHeaderParser();
        if (p.parse(buffer, length) != ProxyHeaderParser.Status.DONE || p.source() == null) {
            throw new IllegalStateException(header + ": " + p.refusalDetail());
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** A v2 PROXY header of {@code family} with {@code addressBytes} of addresses (1, 2, 3...), optionally a CRC. */
    private static byte[] v2(int family, int addressBytes, boolean crc) {
        int length = addressBytes + (crc ? 7 : 0);
        ByteBuffer b = ByteBuffer.allocate(16 + length);
        b.put(SIGNATURE).put((byte) 0x21).put((byte) family).putShort((short) length);
        for (int i = 0; i < addressBytes; i++) {
            b.put((byte) (i + 1));
        }
        if (crc) {
            b.put((byte) 0x03).putShort((short) 4).putInt(0);
            CRC32C c = new CRC32C();
            c.update(b.array(), 0, b.capacity());
            b.putInt(b.capacity() - 4, (int) c.getValue());
        }
        return b.array();
    }

    /** A whole header, parsed to the client address (what the proxy does once per connection). */
    @Benchmark
    public Object parse() {
        ProxyHeaderParser p = new ProxyHeaderParser();
        p.parse(buffer, length);
        return p.source();
    }
}
