package io.fedlink.api;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A key manager for exactly one identity. Building one costs nothing, unlike the JDK's, which needs a password-
 * protected key store (PBE-encrypting the key at store time and decrypting it again). It offers its alias only for
 * the key type JSSE asks about ({@code EC}, {@code RSA}, {@code EdDSA}, ...), so a handshake never picks a signature
 * scheme the key cannot make.
 */
final class IdentityKeyManager extends X509ExtendedKeyManager {
    static final String ALIAS = "identity";

    private final PrivateKey key;
    private final X509Certificate[] chain;
    private final String keyType;

    IdentityKeyManager(PrivateKey key, List<X509Certificate> chain) {
        this.key = key;
        this.chain = chain.toArray(new X509Certificate[0]);
        String alg = key.getAlgorithm();
        // Bouncy Castle's EC keys say "ECDSA" (e.g. read while it is a registered provider, as the Pulsar client
        // registers it); JSSE asks for "EC"
        this.keyType = alg.equals("Ed25519") || alg.equals("Ed448") ? "EdDSA" : alg.equals("ECDSA") ? "EC" : alg;
    }

    private boolean fits(String type) {
        return type != null && (type.equals(keyType) || (keyType.equals("RSA") && type.equals("RSASSA-PSS"))
                || (keyType.equals("EdDSA") && (type.equals("Ed25519") || type.equals("Ed448"))));
    }

    private String[] aliasesFor(String type) {
        return fits(type) ? new String[] {ALIAS} : null;
    }

    private String choose(String[] types) {
        if (types != null) {
            for (String t : types) {
                if (fits(t)) {
                    return ALIAS;
                }
            }
        }
        return null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return aliasesFor(keyType);
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        return choose(keyTypes);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        return choose(keyTypes);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return aliasesFor(keyType);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return fits(keyType) ? ALIAS : null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return fits(keyType) ? ALIAS : null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return ALIAS.equals(alias) ? chain.clone() : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return ALIAS.equals(alias) ? key : null;
    }

    @Override
    public String toString() {
        return "IdentityKeyManager[" + chain[0].getSubjectX500Principal().getName() + "]";
    }
}
