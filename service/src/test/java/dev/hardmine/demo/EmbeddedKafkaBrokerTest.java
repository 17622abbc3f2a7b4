package dev.hardmine.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.security.auth.SecurityProtocol;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaBrokerTest {

    @Test
    void restartsOnTheSamePortAndLogDirKeepingItsRecords(@TempDir Path dir) throws Exception {
        Path logDir = dir.resolve("kafka");
        int port = EmbeddedKafkaBroker.freePort();
        String topic = "restart-" + UUID.randomUUID();
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().port(port).logDir(logDir).start()) {
            assertThat(broker.bootstrapServers()).isEqualTo("127.0.0.1:" + port);
            broker.createTopics(1, topic);
            produce(broker, topic, "k", "before restart");
        }
        assertThat(logDir.resolve("meta.properties")).exists();

        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().port(port).logDir(logDir).start()) {
            produce(broker, topic, "k", "after restart");
            assertThat(readAll(broker, topic, 2)).containsExactly("before restart", "after restart");
        }
        assertThat(logDir).exists();
    }

    /**
     * Ports probed one after the other may repeat (the system picks each at random among the free
     * ones: 91 of 100 series of 200 probes repeated one on a Linux test machine, and 1 of 20 000
     * back-to-back pairs), and a broker given one port for two listeners does not start; freePorts
     * holds every probe open until all are found.
     */
    @Test
    void freePortsAreAllDifferentAndLeaveOutTheOneAlreadyChosen() {
        int chosen = EmbeddedKafkaBroker.freePort();
        int[] ports = EmbeddedKafkaBroker.freePorts(200, chosen);
        assertThat(ports).hasSize(200).doesNotHaveDuplicates().doesNotContain(chosen, 0);
    }

    @Test
    void deletesItsTemporaryLogDirOnClose() {
        Path logDir;
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
            logDir = broker.logDir();
            assertThat(Files.isDirectory(logDir)).isTrue();
            assertThat(broker.bootstrapServers()).isEqualTo("127.0.0.1:" + broker.port());
        }
        assertThat(logDir).doesNotExist();
    }

    @Test
    void failsToStartOnAPortInUseAndLeavesNoTemporaryDirectory() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            var builder = EmbeddedKafkaBroker.builder().port(taken.getLocalPort()).startTimeout(Duration.ofSeconds(10));
            long before = countTemporaryLogDirs();

            assertThatThrownBy(builder::start).hasStackTraceContaining("Address already in use");
            assertThat(countTemporaryLogDirs()).isEqualTo(before);
        }
    }

    @Test
    void rejectsAPortOutOfRange() {
        assertThatThrownBy(() -> EmbeddedKafkaBroker.builder().port(70_000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("70000");
    }

    private static long countTemporaryLogDirs() throws java.io.IOException {
        try (var dirs = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return dirs.filter(p -> p.getFileName().toString().startsWith("hardmine-kafka-")).count();
        }
    }

    static void produce(EmbeddedKafkaBroker broker, String topic, String key, String value) throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
                new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        }
    }

    static List<String> readAll(EmbeddedKafkaBroker broker, String topic, int expected) {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
                new StringDeserializer(), new StringDeserializer())) {
            var partition = new org.apache.kafka.common.TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            var values = new java.util.ArrayList<String>();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
            }
            return values;
        }
    }

    @Test
    void aListenerNeedsANameOfItsOwn() {
        assertThatThrownBy(() -> EmbeddedKafkaBroker.builder().listener("plaintext", SecurityProtocol.SASL_SSL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("plaintext");
        assertThatThrownBy(() -> EmbeddedKafkaBroker.builder().listener("CONTROLLER", SecurityProtocol.SSL))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EmbeddedKafkaBroker.builder().listener("a b", SecurityProtocol.SSL))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theBrokersPropertiesInAMessageHideTheirPasswords() {
        Properties props = new Properties();
        props.setProperty("listeners", "SASL_SSL://127.0.0.1:9093");
        props.setProperty("listener.name.sasl_ssl.ssl.keystore.password", "k-secret");
        props.setProperty("listener.name.sasl_ssl.plain.sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required user_a=\"j-secret\";");

        assertThat(EmbeddedKafkaBroker.withoutSecrets(props).toString())
                .contains("SASL_SSL://127.0.0.1:9093", "listener.name.sasl_ssl.ssl.keystore.password=[hidden]")
                .doesNotContain("k-secret", "j-secret");
    }
}
