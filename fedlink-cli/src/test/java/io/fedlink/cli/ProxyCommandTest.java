package io.fedlink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code fedlink proxy} refuses out-of-range durations, bad addresses and an unclear route source before it binds
 * anything, naming them.
 */
class ProxyCommandTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--idle-timeout| 3000000h| --idle-timeout",
        "--idle-timeout| 999999999h| --idle-timeout",
        "--reload-interval| 0| --reload-interval",
        "--hello-timeout| 0| --hello-timeout",
        "--connect-timeout| 2h| --connect-timeout",
        "--drain| 90000h| --drain",
        "--proxy-header-timeout| 0| --proxy-header-timeout",
        "--proxy-protocol-from| 10.0.0.0/33| --proxy-protocol-from",
        "--proxy-protocol-from| lb.example| --proxy-protocol-from",
        "--buffer-kib| 0| --buffer-kib",
        "--buffer-kib| 2048| --buffer-kib",
        "--client-ipv6-prefix| 0| --client-ipv6-prefix",
        "--client-ipv6-prefix| 129| --client-ipv6-prefix",
        "--client-ipv6-prefix| /64| --client-ipv6-prefix",
        "--target-failures| -1| --target-failures",
        "--target-failures| 1001| --target-failures",
        "--target-failures| many| --target-failures",
        "--target-ejection| 0| --target-ejection",
        "--target-ejection| 2h| --target-ejection",
        "--target-ejection| soon| --target-ejection",
        "--health-check-interval| 50ms| --health-check-interval",
        "--health-check-interval| 2h| --health-check-interval",
        "--health-check-interval| -1s| --health-check-interval",
    })
    void refusesBadValuesNamingTheOption(String option, String value, String named) throws Exception {
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni: []\n");
        Cli r = Cli.run("proxy", "--listen", "127.0.0.1:0", "--routes", routes.toString(), option, value);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(named) && r.err().contains(value), r.err());
        assertFalse(r.err().contains("null") || r.err().contains("Exception"), r.err());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "''| give the routes: --routes sni.yaml, or --etcd URLS --federation NAME",
        "--routes=ROUTES --etcd=http://127.0.0.1:1 --federation=fl| give either --routes or --etcd, not both",
        "--etcd=http://127.0.0.1:1 --federation=fl --default=127.0.0.1:6651| --default applies to --routes only",
        "--routes=ROUTES --routes-cache=cache.json| --routes-cache needs --etcd",
    })
    void needsExactlyOneRouteSource(String options, String message) throws Exception {
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni: []\n");
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("proxy", "--listen", "127.0.0.1:0"));
        for (String o : options.split(" ")) {
            if (!o.isEmpty()) {
                args.add(o.replace("ROUTES", routes.toString()));
            }
        }
        Cli r = Cli.run(args.toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(message), r.err());
    }

    @ParameterizedTest
    @CsvSource({"metrics.example.org:9464", "127.0.0.1:0", "127.0.0.1:x"})
    void refusesMetricsAddressesThatAreNotIpAndPort(String value) throws Exception {
        Path routes = Files.writeString(dir.resolve("sni.yaml"), "sni: []\n");
        Cli r = Cli.run("proxy", "--listen", "127.0.0.1:0", "--routes", routes.toString(), "--metrics", value);
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("fedlink: ") && r.err().contains(value), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }
}
