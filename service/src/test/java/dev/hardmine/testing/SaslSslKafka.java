package dev.hardmine.testing;

import static org.awaitility.Awaitility.await;

import dev.hardmine.demo.EmbeddedKafkaBroker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A real broker whose clients speak SASL_SSL: SCRAM-SHA-512 (or {@link #PLAIN}) over TLS with a
 * certificate of the test's own CA ({@link TestCertificates}), on a listener of its own. The broker's controller and
 * inter-broker listeners, and {@link EmbeddedKafkaBroker#admin()} that creates the SCRAM user, stay
 * PLAINTEXT on 127.0.0.1. The user's password is new for each broker.
 *
 * <p>{@code @ExtendWith(SaslSslKafka.Shared.class)} gives test classes one such broker for the
 * whole run, as {@link SharedKafkaBroker} does for a plain one.
 */
public final class SaslSslKafka implements AutoCloseable {
    public static final String LISTENER = "SASL_SSL";
    public static final String MECHANISM = "SCRAM-SHA-512";
    /**
     * Also enabled on the listener, for the same user and password, for clients on librdkafka
     * before 2.6.1 (Debian 12 has 2.0.2): their SCRAM client-final message repeats the client
     * nonce, which Kafka 4 refuses as invalid credentials.
     */
    public static final String PLAIN = "PLAIN";
    public static final String USER = "trainer";

    private final EmbeddedKafkaBroker broker;
    private final TestCertificates certificates;
    private final String password;
    private final Path dir;

    private SaslSslKafka(EmbeddedKafkaBroker broker, TestCertificates certificates, String password, Path dir) {
        this.broker = broker;
        this.certificates = certificates;
        this.password = password;
        this.dir = dir;
    }

    /** Makes the certificates in {@code dir}, starts the broker and waits until {@link #USER} can connect. */
    public static SaslSslKafka start(Path dir) throws IOException, InterruptedException {
        TestCertificates certificates = TestCertificates.generate(dir.resolve("tls"));
        String password = "scram-" + UUID.randomUUID();
        String listener = "listener.name." + LISTENER.toLowerCase() + ".";
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder()
                .listener(LISTENER, SecurityProtocol.SASL_SSL)
                .brokerProperty(listener + "sasl.enabled.mechanisms", MECHANISM + "," + PLAIN)
                .brokerProperty(listener + MECHANISM.toLowerCase() + ".sasl.jaas.config",
                        "org.apache.kafka.common.security.scram.ScramLoginModule required;")
                .brokerProperty(listener + PLAIN.toLowerCase() + ".sasl.jaas.config",
                        "org.apache.kafka.common.security.plain.PlainLoginModule required user_" + USER + "=\"" + password + "\";")
                .brokerProperty(listener + "ssl.keystore.location", certificates.serverKeystore().toString())
                .brokerProperty(listener + "ssl.keystore.type", TestCertificates.STORE_TYPE)
                .brokerProperty(listener + "ssl.keystore.password", certificates.password())
                .brokerProperty(listener + "ssl.key.password", certificates.password())
                .start();
        SaslSslKafka kafka = new SaslSslKafka(broker, certificates, password, dir);
        try {
            try (Admin admin = broker.admin()) {
                admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(USER,
                        new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), password)))
                        .all().get(30, TimeUnit.SECONDS);
            }
            // The credential reaches the listener through the metadata log: wait until it logs in.
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
                try (Admin admin = Admin.create(new HashMap<>(kafka.clientSettings()))) {
                    return !admin.describeCluster(new DescribeClusterOptions().timeoutMs(5_000))
                            .nodes().get(10, TimeUnit.SECONDS).isEmpty();
                }
            });
            return kafka;
        } catch (Exception e) {
            kafka.close();
            throw new IllegalStateException("the SASL_SSL broker did not let " + USER + " in", e);
        }
    }

    /** {@code bootstrap.servers} of the SASL_SSL listener. */
    public String bootstrapServers() {
        return broker.bootstrapServers(LISTENER);
    }

    public EmbeddedKafkaBroker broker() {
        return broker;
    }

    public TestCertificates certificates() {
        return certificates;
    }

    /** The SCRAM password of {@link #USER}. */
    public String password() {
        return password;
    }

    /** A Kafka client's settings as {@link #USER}, bootstrap servers included. */
    public Map<String, String> clientSettings() {
        return clientSettings(USER, password);
    }

    /**
     * A Kafka client's settings for SASL_SSL as {@code user} with {@code password}, trusting the
     * test's CA: what a user puts in {@code kafka.*} keys (bootstrap servers included).
     */
    public Map<String, String> clientSettings(String user, String password) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("bootstrap.servers", bootstrapServers());
        settings.put("security.protocol", "SASL_SSL");
        settings.put("sasl.mechanism", MECHANISM);
        settings.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + user + "\" password=\"" + password + "\";");
        settings.put("ssl.truststore.location", certificates.truststore().toString());
        settings.put("ssl.truststore.type", TestCertificates.STORE_TYPE);
        settings.put("ssl.truststore.password", certificates.password());
        return settings;
    }

    @Override
    public void close() throws IOException {
        try {
            broker.close();
        } finally {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** JUnit extension: a {@link SaslSslKafka} parameter is the run's one such broker, started on first use. */
    public static final class Shared implements ParameterResolver {
        private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SaslSslKafka.class);

        @Override
        public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
            return parameterContext.getParameter().getType() == SaslSslKafka.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
            return extensionContext.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent("broker", key -> {
                try {
                    return SaslSslKafka.start(Files.createTempDirectory("hardmine-sasl-ssl-"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }, SaslSslKafka.class);
        }
    }
}
