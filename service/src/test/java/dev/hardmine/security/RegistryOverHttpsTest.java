package dev.hardmine.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.registry.RegistryClientConfig;
import dev.hardmine.registry.RegistryCredentials;
import dev.hardmine.registry.RegistryTls;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SchemaRegistryException;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.testing.HttpsBasicAuthProxy;
import dev.hardmine.testing.TestCertificates;
import java.nio.file.Path;
import java.security.cert.CertPathBuilderException;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.SSLHandshakeException;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry client against a registry served over HTTPS that asks for basic credentials, with
 * Confluent's keys only: it trusts the certificate through its own trust store
 * ({@code schema.registry.ssl.truststore.*}), sends {@code basic.auth.user.info}, and fails clearly,
 * without showing a secret, when the password is wrong, the certificate is not trusted or the
 * trust store cannot be read.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class RegistryOverHttpsTest {
    private static final String USER = "trainer";
    private static final Schema SCHEMA = EmbeddingBatch.getClassSchema();

    private final String password = "registry-" + UUID.randomUUID();
    private TestCertificates certificates;
    private EmbeddedSchemaRegistry registry;
    private HttpsBasicAuthProxy https;

    @BeforeAll
    void startTheRegistryBehindHttps(@TempDir Path tmp) throws Exception {
        certificates = TestCertificates.generate(tmp);
        registry = EmbeddedSchemaRegistry.builder().start();
        https = HttpsBasicAuthProxy.start(registry.url(), certificates.serverContext(), USER, password);
    }

    @AfterAll
    void stop() {
        if (https != null) {
            https.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    /** What a user writes for this registry: Confluent's keys. */
    private Map<String, Object> settings(String userInfo) {
        Map<String, Object> settings = new HashMap<>();
        settings.put(SerdeConfig.SCHEMA_REGISTRY_URL, https.url());
        settings.put(SerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO");
        settings.put(SerdeConfig.BASIC_AUTH_USER_INFO, userInfo);
        settings.put(SerdeConfig.SSL_TRUSTSTORE_LOCATION, certificates.truststore().toString());
        settings.put(SerdeConfig.SSL_TRUSTSTORE_PASSWORD, certificates.password());
        settings.put(SerdeConfig.SSL_TRUSTSTORE_TYPE, "PKCS12");
        return settings;
    }

    private static SchemaRegistryClient client(Map<String, Object> settings) {
        return SchemaRegistryClient.create(SerdeConfig.fromMap(settings).client());
    }

    @Test
    void registersAndReadsSchemasOverHttpsWithBasicCredentials() {
        String subject = "https-" + UUID.randomUUID() + "-value";
        try (SchemaRegistryClient client = client(settings(USER + ":" + password));
             SchemaRegistryClient direct = SchemaRegistryClient.forUrl(registry.url())) {
            int id = client.register(subject, SCHEMA);

            // It reached the registry behind the proxy, and reads back through it.
            assertThat(direct.getLatestVersion(subject).id()).isEqualTo(id);
            assertThat(client.getLatestVersion(subject).schema()).isEqualTo(SCHEMA);
        }
        // The same settings built in code rather than read from keys.
        RegistryClientConfig inCode = RegistryClientConfig.of(https.url())
                .withCredentials(RegistryCredentials.basic(USER, password))
                .withTls(RegistryTls.trustStore(certificates.truststore(), certificates.password(), "PKCS12"));
        try (SchemaRegistryClient fresh = SchemaRegistryClient.create(inCode)) {
            assertThat(fresh.getSchemaById(fresh.lookup(subject, SCHEMA).id())).isEqualTo(SCHEMA);
        }
    }

    @Test
    void aWrongPasswordIsRefusedAt401AndNotRetried() {
        int refusedBefore = https.refused();
        String wrong = "wrong-" + UUID.randomUUID();
        try (SchemaRegistryClient client = client(settings(USER + ":" + wrong))) {
            assertThatThrownBy(() -> client.register("https-refused-value", SCHEMA))
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                        assertThat(e.httpStatus()).isEqualTo(401);
                        assertThat(e.isRetriable()).isFalse();
                    })
                    .hasMessageContaining("401")
                    .message().doesNotContain(wrong);
        }
        assertThat(https.refused() - refusedBefore).as("attempts refused").isEqualTo(1);
    }

    /** A configuration fault, not an outage: refused at once, never retried as if the registry were away. */
    @Test
    void aCertificateTheTrustStoreDoesNotVouchForFailsTheHandshakeAndIsNotRetried() {
        Map<String, Object> jvmTrust = settings(USER + ":" + password);
        jvmTrust.remove(SerdeConfig.SSL_TRUSTSTORE_LOCATION);
        jvmTrust.remove(SerdeConfig.SSL_TRUSTSTORE_PASSWORD);
        try (SchemaRegistryClient client = client(jvmTrust)) {
            assertThatThrownBy(() -> client.register("https-untrusted-value", SCHEMA))
                    .isInstanceOfSatisfying(SchemaRegistryException.class,
                            e -> assertThat(e.isRetriable()).as("retriable").isFalse())
                    .hasRootCauseInstanceOf(CertPathBuilderException.class)
                    .hasMessageContaining("certificate was rejected")
                    .hasMessageContaining(SSLHandshakeException.class.getName())
                    .hasMessageContaining("unable to find valid certification path")
                    .message().as("retried").doesNotContain("gave up after");
        }
    }

    @Test
    void aTrustStoreThatCannotBeReadIsRefusedNamingTheKey() {
        String wrong = "not-the-store-password-" + UUID.randomUUID();
        Map<String, Object> settings = settings(USER + ":" + password);
        settings.put(SerdeConfig.SSL_TRUSTSTORE_PASSWORD, wrong);

        assertThatThrownBy(() -> client(settings))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(SerdeConfig.SSL_TRUSTSTORE_LOCATION)
                .hasMessageContaining(certificates.truststore().toString())
                .message().doesNotContain(wrong);
    }

    @Test
    void theKafkaClientsOwnTrustStoreKeysAreNotTheRegistrys() {
        Map<String, Object> kafkaOnly = new HashMap<>(Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, https.url(),
                "ssl.truststore.location", certificates.truststore().toString(),
                "ssl.truststore.password", certificates.password()));

        assertThat(SerdeConfig.fromMap(kafkaOnly).client().tls()).isEqualTo(RegistryTls.jvmDefault());
        kafkaOnly.put(SerdeConfig.SSL_TRUSTSTORE_LOCATION, certificates.truststore().toString());
        assertThat(SerdeConfig.fromMap(kafkaOnly).client().tls().truststoreLocation()).isEqualTo(certificates.truststore());
    }

    @Test
    void theSettingsNeverShowTheirSecrets() {
        String shown = SerdeConfig.fromMap(settings(USER + ":" + password)).toString();

        assertThat(shown).contains(https.url(), USER, certificates.truststore().toString())
                .doesNotContain(password, certificates.password());
    }
}
