package io.fedlink.benchmarks;

import io.fedlink.api.ClientAuth;
import io.fedlink.api.TlsMaterial;
import io.fedlink.pki.CertificateAuthority;
import io.fedlink.pki.CertificateRequest;
import io.fedlink.pki.KeyType;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
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

/** Certificates issued per second (key generation included) and the cost of building an SSLContext. */
@State(Scope.Benchmark)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(1)
public class PkiBenchmark {
    @Param({"EC_P256", "RSA_2048"})
    public String keyType;

    private CertificateAuthority ca;
    private TlsMaterial material;

    @Setup
    public void setUp() {
        ca = CertificateAuthority.builder().commonName("bench CA").permitDns("fate.org").create();
        material = ca.issue(CertificateRequest.party("10000", "fate.org").keyType(KeyType.valueOf(keyType)))
                .tlsMaterial();
    }

    /** One party certificate with a fresh key, as {@code ca.issue(CertificateRequest.party(...))}. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public Object issue() {
        return ca.issue(CertificateRequest.party("9999", "fate.org").keyType(KeyType.valueOf(keyType)));
    }

    /** A mutual-TLS server context from the material (key manager, trust manager, defaults). */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public SSLContext serverContext() {
        return material.serverContext(ClientAuth.REQUIRED);
    }
}
