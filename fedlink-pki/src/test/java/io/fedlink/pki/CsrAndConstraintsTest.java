package io.fedlink.pki;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** CSR signing for every key type, name constraints on every name type, and SAN-only certificates. */
class CsrAndConstraintsTest {
    static final CertificateAuthority FATE = CertificateAuthority.builder().commonName("fate.org CA")
            .permitDns("fate.org").create();

    /** A CSR made by the JDK key of {@code type} (BouncyCastle only encodes it), with a DNS SAN request. */
    static String csr(KeyPair pair, KeyType type, String cn, GeneralName... sans) throws Exception {
        ExtensionsGenerator ext = new ExtensionsGenerator();
        ext.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
        var builder = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + cn), pair.getPublic())
                .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate());
        var der = builder.build(new JcaContentSignerBuilder(type.signatureAlgorithm()).build(pair.getPrivate()))
                .getEncoded();
        return io.fedlink.api.PemCodec.block("CERTIFICATE REQUEST", der);
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void signsCsrsOfEveryKeyType(KeyType type) throws Exception {
        KeyPair pair = type.generate();
        String pem = csr(pair, type, "b.fate.org", new GeneralName(GeneralName.dNSName, "b.fate.org"));
        IssuedCertificate c = FATE.signCsr(pem, Profile.SERVER, 30);
        assertArrayEquals(pair.getPublic().getEncoded(), c.certificate().getPublicKey().getEncoded());
        assertEquals(List.of(List.of(2, "b.fate.org")), List.copyOf(c.certificate().getSubjectAlternativeNames()));
        c.certificate().verify(FATE.certificate().getPublicKey());
    }

    @Test
    void rsaKeysBelow2048BitsAreRefusedOnEveryCsrPath() throws Exception {
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
        g.initialize(1024);
        String pem = csr(g.generateKeyPair(), KeyType.RSA_2048, "b.fate.org",
                new GeneralName(GeneralName.dNSName, "b.fate.org"));
        int issued = FATE.issued().size();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FATE.signCsr(pem, Profile.SERVER, 30));
        assertTrue(e.getMessage().contains("the CSR's key is RSA 1024"), e.getMessage());
        assertEquals(issued, FATE.issued().size());
    }

    @Test
    void ipAndUriNamesAreRefusedUnderDnsConstraintsUnlessPermitted() {
        for (String bad : new String[] {"10.1.2.3", "::1"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> FATE.issue(CertificateRequest.server("a.fate.org").ip(bad)));
            assertTrue(e.getMessage().contains("IP address '" + bad + "'") && e.getMessage().contains("--permit-ip")
                    || e.getMessage().contains("permitIp"), e.getMessage());
        }
        IllegalArgumentException uri = assertThrows(IllegalArgumentException.class,
                () -> FATE.issue(CertificateRequest.server("a.fate.org").uri("spiffe://evil.com/x")));
        assertTrue(uri.getMessage().contains("'spiffe://evil.com/x'"), uri.getMessage());

        CertificateAuthority wide = CertificateAuthority.builder().permitDns("fate.org").permitIp("10.0.0.0/8")
                .permitUriDomain("fate.org").create();
        wide.issue(CertificateRequest.server("a.fate.org").ip("10.1.2.3").uri("spiffe://fate.org/ns/a"));
        assertThrows(IllegalArgumentException.class,
                () -> wide.issue(CertificateRequest.server("a.fate.org").ip("11.0.0.1")));
        assertThrows(IllegalArgumentException.class,
                () -> wide.issue(CertificateRequest.server("a.fate.org").uri("spiffe://evil.com/x")));
        assertEquals(List.of("10.0.0.0/8"), wide.permittedIp());
        assertEquals(List.of("fate.org"), wide.permittedUriDomains());
    }

    @Test
    void theCaCertificateExcludesEveryIpRangeWhenNoneIsPermitted(@TempDir Path dir) throws Exception {
        String text = FATE.certificate().toString();
        assertTrue(text.contains("Excluded"), text);
        FATE.save(dir.resolve("ca"), null);
        CertificateAuthority back = CertificateAuthority.load(dir.resolve("ca"));
        assertThrows(IllegalArgumentException.class,
                () -> back.issue(CertificateRequest.server("a.fate.org").ip("127.0.0.1")));
        CertificateAuthority wide = CertificateAuthority.builder().permitDns("fate.org").permitIp("10.0.0.0/8",
                "fd00::/8").permitUriDomain("fate.org").create();
        wide.save(dir.resolve("wide"), null);
        CertificateAuthority wideBack = CertificateAuthority.load(dir.resolve("wide"));
        assertEquals(List.of("10.0.0.0/8", "fd00:0:0:0:0:0:0:0/8"), wideBack.permittedIp());
        assertEquals(List.of("fate.org"), wideBack.permittedUriDomains());
        CertificateAuthority mid = wide.intermediate().create();
        assertEquals(wide.permittedIp(), mid.permittedIp());
    }

    @Test
    void longDnsNamesGetSanOnlyCertificates() throws Exception {
        String label = "a".repeat(60);
        String name = label + "." + label + "." + label + ".x.fate.org"; // 193 characters: too long for a CN
        X509Certificate x = FATE.issue(CertificateRequest.server(name)).certificate();
        assertEquals("", x.getSubjectX500Principal().getName());
        assertEquals(List.of(List.of(2, name)), List.copyOf(x.getSubjectAlternativeNames()));
        assertTrue(x.getCriticalExtensionOIDs().contains(Extension.subjectAlternativeName.getId()),
                "an empty subject makes the SAN critical (RFC 5280 4.2.1.6)");
        assertTrue(FATE.issued().get(FATE.issued().size() - 1).subject().contains(name));
    }
}
