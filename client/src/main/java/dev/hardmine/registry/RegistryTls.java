package dev.hardmine.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Which certificates the client trusts when it talks to the registry over {@code https://}: the
 * JVM's default trust store ({@code javax.net.ssl.trustStore}, else the JDK's {@code cacerts}), or a
 * trust store of its own, as Confluent's client reads it from
 * {@code schema.registry.ssl.truststore.location}, {@code .password} and {@code .type}. The host
 * name is always checked against the certificate. {@code toString()} never shows the password.
 *
 * @param truststoreLocation the trust store file; null for the JVM's default
 * @param truststorePassword its password; null when it has none
 * @param truststoreType     its type: {@code JKS} or {@code PKCS12} (the JDK reads either as either)
 */
public record RegistryTls(Path truststoreLocation, String truststorePassword, String truststoreType) {
    public static final String DEFAULT_TRUSTSTORE_TYPE = "JKS";

    private static final RegistryTls JVM_DEFAULT = new RegistryTls(null, null, DEFAULT_TRUSTSTORE_TYPE);

    public RegistryTls {
        Objects.requireNonNull(truststoreType, "truststoreType");
        if (truststoreLocation == null && truststorePassword != null) {
            throw new IllegalArgumentException("schema.registry.ssl.truststore.password is set but "
                    + "schema.registry.ssl.truststore.location is not");
        }
    }

    /** The JVM's default trust store. */
    public static RegistryTls jvmDefault() {
        return JVM_DEFAULT;
    }

    /** The certificates of the trust store {@code location} (type JKS or PKCS12). */
    public static RegistryTls trustStore(Path location, String password, String type) {
        return new RegistryTls(Objects.requireNonNull(location, "location"), password, type);
    }

    /**
     * An SSL context that trusts the certificates of the trust store; empty for the JVM's default.
     *
     * @throws IllegalArgumentException naming the key when the trust store cannot be read (no such
     *                                  file, wrong password, wrong type)
     */
    public Optional<SSLContext> sslContext() {
        if (truststoreLocation == null) {
            return Optional.empty();
        }
        try (InputStream in = Files.newInputStream(truststoreLocation)) {
            KeyStore store = KeyStore.getInstance(truststoreType);
            store.load(in, truststorePassword == null ? null : truststorePassword.toCharArray());
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return Optional.of(context);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("schema.registry.ssl.truststore.location " + truststoreLocation
                    + " (type " + truststoreType + ") cannot be read: " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return truststoreLocation == null ? "RegistryTls[JVM default trust store]"
                : "RegistryTls[truststore=" + truststoreLocation + ", type=" + truststoreType
                        + (truststorePassword == null ? "" : ", password=***") + "]";
    }
}
