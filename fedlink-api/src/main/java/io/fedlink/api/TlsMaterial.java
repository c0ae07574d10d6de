package io.fedlink.api;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertStore;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509KeyManager;
import javax.net.ssl.X509TrustManager;

/**
 * The TLS identity and trust of one party: an optional private key with its certificate chain, the trust anchors
 * it accepts peers from, optional CRLs to honour, and a hostname-verification policy.
 *
 * <p>From it come key and trust managers, PEM and key-store exports, and {@link SSLContext}s that carry fedlink's
 * defaults into every engine and socket they create: TLSv1.3 and TLSv1.2 only, the TLS 1.3 suites plus the RFC 7525
 * TLS 1.2 suites (AEAD with forward secrecy), hostname verification on unless the material says otherwise, and, for
 * servers, the chosen {@link ClientAuth}.
 *
 * <pre>{@code
 * TlsMaterial party = TlsMaterial.builder()
 *     .identity(key, leaf, intermediate)
 *     .trust(rootCa)
 *     .build();
 * SSLContext server = party.serverContext(ClientAuth.REQUIRED);
 * SSLContext client = party.clientContext();   // checks the server's name
 * }</pre>
 *
 * <p>{@link #toString()} never shows the key. Instances are immutable and thread-safe.
 */
public final class TlsMaterial {
    /** Protocols fedlink speaks, newest first. */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /** TLS 1.3 suites, then the RFC 7525 section 4.2 TLS 1.2 suites (the list of the Flink deployment guide). */
    public static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384");

    private final PrivateKey key;
    private final List<X509Certificate> chain;
    private final List<X509Certificate> trustAnchors;
    private final List<X509CRL> crls;
    private final HostnameVerification hostnameVerification;

    private TlsMaterial(Builder b) {
        this.key = b.key;
        this.chain = List.copyOf(b.chain);
        this.trustAnchors = List.copyOf(b.trust);
        this.crls = List.copyOf(b.crls);
        this.hostnameVerification = b.hostnameVerification;
        if (key == null && trustAnchors.isEmpty()) {
            throw new IllegalArgumentException("TLS material needs an identity, trust anchors, or both");
        }
        if (!crls.isEmpty() && trustAnchors.isEmpty()) {
            throw new IllegalArgumentException("CRLs given without trust anchors to check them against");
        }
    }

    /** Starts empty material. */
    public static Builder builder() {
        return new Builder();
    }

    /** The private key, or {@code null} for trust-only material. */
    public PrivateKey privateKey() {
        return key;
    }

    /** The certificate chain, leaf first; empty for trust-only material. */
    public List<X509Certificate> certificateChain() {
        return chain;
    }

    /** The leaf certificate, or {@code null} for trust-only material. */
    public X509Certificate certificate() {
        return chain.isEmpty() ? null : chain.get(0);
    }

    /** Trust anchors peers are verified against; empty when the material only presents an identity. */
    public List<X509Certificate> trustAnchors() {
        return trustAnchors;
    }

    /** CRLs honoured during peer verification; empty when revocation is not checked. */
    public List<X509CRL> crls() {
        return crls;
    }

    /** The hostname-verification policy applied by {@link #clientContext()}. */
    public HostnameVerification hostnameVerification() {
        return hostnameVerification;
    }

    /** Whether this material has an identity (key and chain). */
    public boolean hasIdentity() {
        return key != null;
    }

    /** A copy with another hostname-verification policy. */
    public TlsMaterial withHostnameVerification(HostnameVerification policy) {
        Builder b = toBuilder();
        b.hostnameVerification = Objects.requireNonNull(policy, "policy");
        return b.build();
    }

    /** A copy that also honours these CRLs. */
    public TlsMaterial withCrls(Collection<X509CRL> more) {
        Builder b = toBuilder();
        b.crls.addAll(more);
        return b.build();
    }

    /** A builder holding this material's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.key = key;
        b.chain.addAll(chain);
        b.trust.addAll(trustAnchors);
        b.crls.addAll(crls);
        b.hostnameVerification = hostnameVerification;
        return b;
    }

    /**
     * The key manager presenting this identity.
     *
     * @throws IllegalStateException for trust-only material
     */
    public X509KeyManager keyManager() {
        if (key == null) {
            throw new IllegalStateException("this TLS material has no identity (trust only)");
        }
        return new IdentityKeyManager(key, chain);
    }

    /**
     * The trust manager verifying peers against the trust anchors (and CRLs, when present).
     *
     * @throws IllegalStateException when the material has no trust anchors
     */
    public X509TrustManager trustManager() {
        if (trustAnchors.isEmpty()) {
            throw new IllegalStateException("this TLS material has no trust anchors; peers cannot be verified");
        }
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            if (crls.isEmpty()) {
                tmf.init(trustStore("PKCS12"));
            } else {
                Set<TrustAnchor> anchors = new HashSet<>();
                for (X509Certificate c : trustAnchors) {
                    anchors.add(new TrustAnchor(c, null));
                }
                PKIXBuilderParameters params = new PKIXBuilderParameters(anchors, new X509CertSelector());
                params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(crls)));
                params.setRevocationEnabled(true);
                tmf.init(new CertPathTrustManagerParameters(params));
            }
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509TrustManager x) {
                    return x;
                }
            }
            throw new IllegalStateException("no X509TrustManager from " + tmf.getProvider());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build trust manager: " + e.getMessage(), e);
        }
    }

    /**
     * A server context presenting this identity; with {@code OPTIONAL} or {@code REQUIRED} client auth, clients are
     * verified against the trust anchors.
     */
    public SSLContext serverContext(ClientAuth clientAuth) {
        requireServerCapable(clientAuth);
        return ConfiguredSslContext.server(init(trustAnchors.isEmpty() ? null : trustManager()), clientAuth);
    }

    /** Throws unless a server context with {@code clientAuth} can be made from this material. */
    void requireServerCapable(ClientAuth clientAuth) {
        Objects.requireNonNull(clientAuth, "clientAuth");
        if (key == null) {
            throw new IllegalStateException("a server context needs an identity; this TLS material is trust only");
        }
        if (clientAuth != ClientAuth.NONE && trustAnchors.isEmpty()) {
            throw new IllegalStateException("client auth " + clientAuth + " needs trust anchors to verify clients");
        }
    }

    /**
     * A client context verifying servers against the trust anchors and, unless the policy opts out, checking the
     * dialled host name; presents this identity when it has one (mutual TLS).
     */
    public SSLContext clientContext() {
        return ConfiguredSslContext.client(init(trustManager()),
                hostnameVerification == HostnameVerification.STRICT);
    }

    private SSLContext init(X509TrustManager tm) {
        return ConfiguredSslContext.initialised(key == null ? null : keyManager(), tm);
    }

    /**
     * A key store (e.g. {@code PKCS12} or {@code JKS}) holding the identity under {@code alias}, protected by
     * {@code password} (store and key), with the trust anchors as trusted entries {@code ca-0}, {@code ca-1}, ...
     */
    public KeyStore keyStore(String type, String alias, char[] password) {
        if (key == null) {
            throw new IllegalStateException("this TLS material has no identity (trust only)");
        }
        try {
            KeyStore ks = KeyStore.getInstance(type);
            ks.load(null, null);
            ks.setKeyEntry(alias, key, password, chain.toArray(new X509Certificate[0]));
            for (int i = 0; i < trustAnchors.size(); i++) {
                ks.setCertificateEntry("ca-" + i, trustAnchors.get(i));
            }
            return ks;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build " + type + " key store: " + e.getMessage(), e);
        }
    }

    /** A trust store of the given type with the trust anchors as {@code ca-0}, {@code ca-1}, ... */
    public KeyStore trustStore(String type) {
        try {
            KeyStore ks = KeyStore.getInstance(type);
            ks.load(null, null);
            for (int i = 0; i < trustAnchors.size(); i++) {
                ks.setCertificateEntry("ca-" + i, trustAnchors.get(i));
            }
            return ks;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build " + type + " trust store: " + e.getMessage(), e);
        }
    }

    /** The certificate chain as PEM, leaf first. */
    public String certificateChainPem() {
        return PemCodec.certificates(chain);
    }

    /** The trust anchors as PEM. */
    public String trustAnchorsPem() {
        return PemCodec.certificates(trustAnchors);
    }

    /**
     * The private key as unencrypted PKCS#8 PEM ({@code BEGIN PRIVATE KEY}), the form Pulsar brokers read. Write it
     * only to a file with mode 0600.
     */
    public String privateKeyPem() {
        if (key == null) {
            throw new IllegalStateException("this TLS material has no identity (trust only)");
        }
        return PemCodec.privateKey(key);
    }

    private String subject() {
        return chain.isEmpty() ? "(no certificate)" : chain.get(0).getSubjectX500Principal().getName();
    }

    /** Shows subject, chain length, anchors and policy; never the key. */
    @Override
    public String toString() {
        return "TlsMaterial[identity=" + (key == null ? "none" : subject() + " (" + key.getAlgorithm() + ", chain "
                + chain.size() + ")") + ", trustAnchors=" + trustAnchors.size() + ", crls=" + crls.size()
                + ", hostnameVerification=" + hostnameVerification + "]";
    }

    /** Collects the parts of {@link TlsMaterial}. */
    public static final class Builder {
        private PrivateKey key;
        private final List<X509Certificate> chain = new ArrayList<>();
        private final List<X509Certificate> trust = new ArrayList<>();
        private final List<X509CRL> crls = new ArrayList<>();
        private HostnameVerification hostnameVerification = HostnameVerification.STRICT;

        private Builder() {}

        /**
         * Sets the identity: a private key and its chain, leaf first.
         *
         * @throws IllegalArgumentException if the chain is empty or the key does not match the leaf's public key
         *                                  algorithm
         */
        public Builder identity(PrivateKey key, X509Certificate... chain) {
            return identity(key, Arrays.asList(chain));
        }

        /** Sets the identity; see {@link #identity(PrivateKey, X509Certificate...)}. */
        public Builder identity(PrivateKey key, List<X509Certificate> chain) {
            Objects.requireNonNull(key, "key");
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("an identity needs at least its own certificate");
            }
            String keyAlg = normalise(key.getAlgorithm());
            String certAlg = normalise(chain.get(0).getPublicKey().getAlgorithm());
            if (!keyAlg.equals(certAlg)) {
                throw new IllegalArgumentException("private key algorithm " + key.getAlgorithm()
                        + " does not match certificate " + chain.get(0).getSubjectX500Principal().getName()
                        + " with a " + chain.get(0).getPublicKey().getAlgorithm() + " key");
            }
            this.key = key;
            this.chain.clear();
            this.chain.addAll(chain);
            return this;
        }

        private static String normalise(String alg) {
            return alg.equals("ECDSA") ? "EC" : alg.equals("Ed25519") || alg.equals("EdDSA") ? "EdDSA" : alg;
        }

        /** Adds trust anchors. */
        public Builder trust(X509Certificate... anchors) {
            return trust(Arrays.asList(anchors));
        }

        /** Adds trust anchors. */
        public Builder trust(Collection<X509Certificate> anchors) {
            trust.addAll(anchors);
            return this;
        }

        /** Honours these CRLs when verifying peers (revocation checking on). */
        public Builder crls(Collection<X509CRL> list) {
            crls.addAll(list);
            return this;
        }

        /** Sets the hostname-verification policy ({@link HostnameVerification#STRICT} by default). */
        public Builder hostnameVerification(HostnameVerification policy) {
            this.hostnameVerification = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** Validates and builds. */
        public TlsMaterial build() {
            return new TlsMaterial(this);
        }
    }
}
