package dev.hardmine.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.registry.AvroDeserializer;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.registry.MockSchemaRegistry;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.testing.SharedKafkaBroker;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The publisher against a real broker and the embedded registry: what it writes, what it refuses, how it waits. */
@ExtendWith(SharedKafkaBroker.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class EmbeddingPublisherTest {
    private final EmbeddedKafkaBroker kafka;
    private EmbeddedSchemaRegistry registry;

    EmbeddingPublisherTest(EmbeddedKafkaBroker kafka) {
        this.kafka = kafka;
    }

    @BeforeAll
    void startRegistry() {
        registry = EmbeddedSchemaRegistry.builder().kafka(kafka.bootstrapServers())
                .topic("_schemas-publisher-" + UUID.randomUUID()).start();
    }

    @AfterAll
    void stopRegistry() {
        registry.close();
    }

    private EmbeddingPublisher.Builder publisher(String topic) {
        return EmbeddingPublisher.builder().bootstrapServers(kafka.bootstrapServers()).registryUrl(registry.url())
                .topic(topic).jobId("job-p").workerId("rank-3");
    }

    private static byte[] littleEndian(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    @Test
    void writesOneEmbeddingBatchPerCallKeyedByJobInTheWireFormat() throws Exception {
        String topic = "client-publish-" + UUID.randomUUID();
        kafka.createTopics(1, topic);
        Instant before = Instant.now().minusMillis(1);
        try (EmbeddingPublisher publisher = publisher(topic).modelVersion("v7").build()) {
            publisher.publish(41, List.of("img-1", "img-2"), List.of("ann", "bob"),
                    new float[][] {{0.5f, -1f, 2f}, {3f, 0f, -0.25f}}).get(20, TimeUnit.SECONDS);
            // Two rows of dim 2 behind a position of 1: the buffer's remaining values, row-major.
            FloatBuffer tensor = FloatBuffer.wrap(new float[] {9f, 1f, 2f, 3f, 4f});
            tensor.position(1);
            publisher.publish(41, List.of("img-3", "img-4"), List.of("ann", "ann"), tensor, 2).get(20, TimeUnit.SECONDS);
            assertThat(tensor.position()).isEqualTo(1);
            assertThat(publisher.newestStep()).isEqualTo(41);
            assertThat(publisher.inFlight()).isZero();
        }

        List<ConsumerRecord<String, byte[]>> records = readAll(topic, 2);
        int schemaId = SchemaRegistryClient.forUrl(registry.url()).getLatestVersion(topic + "-value").id();
        List<EmbeddingBatch> batches = new ArrayList<>();
        try (var deserializer = new AvroDeserializer<>(EmbeddingBatch.class, SchemaRegistryClient.forUrl(registry.url()))) {
            for (ConsumerRecord<String, byte[]> r : records) {
                assertThat(r.key()).isEqualTo("job-p");
                assertThat(r.value()[0]).isZero();
                assertThat(ByteBuffer.wrap(r.value(), 1, 4).getInt()).isEqualTo(schemaId);
                batches.add(deserializer.deserialize(topic, r.value()));
            }
        }
        EmbeddingBatch first = batches.get(0);
        assertThat(first.getJobId()).isEqualTo("job-p");
        assertThat(first.getWorkerId()).isEqualTo("rank-3");
        assertThat(first.getBatchId()).isEqualTo("rank-3-41");
        assertThat(first.getStep()).isEqualTo(41);
        assertThat(first.getModelVersion()).isEqualTo("v7");
        assertThat(first.getDim()).isEqualTo(3);
        assertThat(first.getProducedAt()).isAfter(before).isBeforeOrEqualTo(Instant.now());
        assertThat(first.getSamples().get(1).getSampleId()).isEqualTo("img-2");
        assertThat(first.getSamples().get(1).getLabel()).isEqualTo("bob");
        assertThat(bytes(first.getSamples().get(0).getEmbedding())).isEqualTo(littleEndian(0.5f, -1f, 2f));
        // A second batch at the same step keeps batch ids unique within the job.
        EmbeddingBatch second = batches.get(1);
        assertThat(second.getBatchId()).isEqualTo("rank-3-41.1");
        assertThat(second.getDim()).isEqualTo(2);
        assertThat(bytes(second.getSamples().get(0).getEmbedding())).isEqualTo(littleEndian(1f, 2f));
        assertThat(bytes(second.getSamples().get(1).getEmbedding())).isEqualTo(littleEndian(3f, 4f));
    }

    @Test
    void batchIdsStayUniqueWhenAStepComesBackAfterAnotherStep() throws Exception {
        String topic = "client-batch-ids-" + UUID.randomUUID();
        kafka.createTopics(1, topic);
        long[] steps = {5, 4, 5, 5, 4, 6, 3};
        try (EmbeddingPublisher publisher = publisher(topic).build()) {
            for (long step : steps) {
                publisher.publish(step, List.of("img-" + step), List.of("ann"), new float[][] {{1f}});
            }
            publisher.flush();
        }

        List<String> ids = new ArrayList<>();
        try (var deserializer = new AvroDeserializer<>(EmbeddingBatch.class, SchemaRegistryClient.forUrl(registry.url()))) {
            for (ConsumerRecord<String, byte[]> r : readAll(topic, steps.length)) {
                ids.add(deserializer.deserialize(topic, r.value()).getBatchId());
            }
        }
        // 5 and 4 are new; 5 again is the publisher's first repeat (.1), then its second (.2), and
        // 4 again its third (.3); 6 and 3 were never published, whatever came before them.
        assertThat(ids).containsExactly("rank-3-5", "rank-3-4", "rank-3-5.1", "rank-3-5.2", "rank-3-4.3", "rank-3-6", "rank-3-3");
    }

    @Test
    void refusesMalformedBatchesBeforeSendingAnything() {
        // Nothing is sent, so neither the broker nor the registry is reached.
        try (EmbeddingPublisher publisher = EmbeddingPublisher.builder().bootstrapServers("127.0.0.1:9")
                .registry(MockSchemaRegistry.scope("publisher-refusals")).jobId("j").workerId("w").build()) {
            float[][] two = {{1f}, {2f}};
            assertThatThrownBy(() -> publisher.publish(0, List.of("a", "b"), List.of("x"), two))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one of each per sample");
            assertThatThrownBy(() -> publisher.publish(0, List.of("a", "a"), List.of("x", "y"), two))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sample id a appears twice");
            assertThatThrownBy(() -> publisher.publish(0, List.of("a", "b"), List.of("x", "y"), new float[][] {{1f}, {Float.NaN}}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("embedding of b has a non-finite value");
            assertThatThrownBy(() -> publisher.publish(0, List.of("a", "b"), List.of("x", "y"), new float[][] {{1f}, {1f, 2f}}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("row 1 has 2 values");
            assertThatThrownBy(() -> publisher.publish(0, List.of("a", "b"), List.of("x", "y"), FloatBuffer.allocate(3), 2))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds 3 values, expected 2 samples × dim 2");
            assertThatThrownBy(() -> publisher.publish(-1, List.of("a", "b"), List.of("x", "y"), two))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("step must be >= 0");
            assertThat(publisher.newestStep()).isEqualTo(-1);
            assertThat(publisher.inFlight()).isZero();
        } finally {
            MockSchemaRegistry.dropScope("publisher-refusals");
        }
    }

    /**
     * A stalled broker: the publisher reaches a broker of its own through a proxy that stops
     * passing bytes on. Two batches go out unacknowledged, the third publish waits for one of them,
     * and the producer holds no more than those two batches; when the proxy resumes, all three land.
     */
    @Test
    void publishBlocksOnceMaxInFlightBatchesAreUnacknowledgedAndResumesWhenTheBrokerAnswers() throws Exception {
        int brokerPort = EmbeddedKafkaBroker.freePort();
        try (PausableProxy proxy = new PausableProxy(brokerPort);
             EmbeddedKafkaBroker stalling = EmbeddedKafkaBroker.builder().port(brokerPort)
                     .brokerProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + proxy.port()).start()) {
            String topic = "client-stalled";
            stalling.createTopics(1, topic);
            float[][] rows = new float[64][128]; // 32 KiB of embeddings a batch
            List<String> labels = new ArrayList<>();
            for (int i = 0; i < rows.length; i++) {
                Arrays.fill(rows[i], i);
                labels.add("id" + i % 8);
            }
            try (EmbeddingPublisher publisher = EmbeddingPublisher.builder().bootstrapServers("127.0.0.1:" + proxy.port())
                    .registryUrl(registry.url()).topic(topic).jobId("job-s").workerId("w").maxInFlightBatches(2).build()) {
                publisher.publish(0, ids(0), labels, rows).get(30, TimeUnit.SECONDS); // connected, schema registered
                proxy.pause();

                CompletableFuture<RecordMetadata> first = publisher.publish(1, ids(1), labels, rows);
                CompletableFuture<RecordMetadata> second = publisher.publish(2, ids(2), labels, rows);
                AtomicReference<CompletableFuture<RecordMetadata>> third = new AtomicReference<>();
                Thread trainer = new Thread(() -> third.set(publisher.publish(3, ids(3), labels, rows)), "trainer");
                trainer.start();

                await().atMost(Duration.ofSeconds(30)).until(() -> waitsForAnInFlightSlot(trainer));
                assertThat(publisher.inFlight()).isEqualTo(2);
                assertThat(first).isNotDone();
                assertThat(second).isNotDone();
                assertThat(third.get()).isNull();
                assertThat(bufferedBytes(publisher)).as("bytes the producer holds")
                        .isBetween(2 * 32 * 1024.0, 2 * 64 * 1024.0);

                proxy.resume();
                trainer.join(TimeUnit.SECONDS.toMillis(60));
                assertThat(trainer.isAlive()).isFalse();
                assertThat(third.get().get(60, TimeUnit.SECONDS).offset()).isEqualTo(3);
                assertThat(first.get().offset()).isEqualTo(1);
                assertThat(second.get().offset()).isEqualTo(2);
                await().atMost(Duration.ofSeconds(10)).until(() -> publisher.inFlight() == 0);
            }
        }
    }

    private static boolean waitsForAnInFlightSlot(Thread thread) {
        return thread.getState() == Thread.State.WAITING && Arrays.stream(thread.getStackTrace())
                .anyMatch(f -> f.getClassName().equals(EmbeddingPublisher.class.getName()) && f.getMethodName().equals("send"));
    }

    /** Memory of the producer's buffer pool in use: {@code buffer-total-bytes − buffer-available-bytes}. */
    private static double bufferedBytes(EmbeddingPublisher publisher) {
        return metric(publisher, "buffer-total-bytes") - metric(publisher, "buffer-available-bytes");
    }

    private static double metric(EmbeddingPublisher publisher, String name) {
        return publisher.metrics().entrySet().stream()
                .filter(e -> e.getKey().group().equals("producer-metrics") && e.getKey().name().equals(name))
                .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
                .findFirst().orElseThrow();
    }

    private static List<String> ids(int batch) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            ids.add("b" + batch + "-" + i);
        }
        return ids;
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    private List<ConsumerRecord<String, byte[]>> readAll(String topic, int count) {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(topic, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (out.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            assertThat(out).hasSize(count);
            return out;
        }
    }
}
