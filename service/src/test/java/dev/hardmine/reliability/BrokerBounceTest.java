package dev.hardmine.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.client.Topics;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.registry.AvroSerializer;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.testing.BrokerProcess;
import dev.hardmine.testing.ExactlyOnce;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.MinedTopicReader;
import dev.hardmine.testing.PacedPublisher;
import dev.hardmine.testing.RunProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker killed (SIGKILL) and started again while {@code hardmine run} mines: the service
 * reconnects by itself, with no manual step, and every batch is mined exactly once, as an offline
 * replay mines it. The broker is a child process of the test, so that it can die without the test.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class BrokerBounceTest {
    private static final int BATCHES = Integer.getInteger("bounce.batches", 240);
    private static final int BOUNCES = Integer.getInteger("bounce.bounces", 2);
    private static final Duration DOWN = Duration.ofSeconds(Long.getLong("bounce.down-seconds", 10));
    private static final Duration PUBLISH_INTERVAL = Duration.ofMillis(40);
    private static final MemoryLimits MEMORY = new MemoryLimits(4, 256, 0);
    private static final long MEMORY_MAX_BYTES = 64L << 20;

    @TempDir
    Path tmp;

    @Test
    void theServiceReconnectsByItselfAndMinesEveryBatchExactlyOnce() throws Exception {
        List<EmbeddingBatch> input = ExactlyOnce.batchesOfJobs(11, BATCHES, 2);
        String prefix = "bounce.";
        Topics topics = Topics.withPrefix(prefix);
        try (BrokerProcess broker = BrokerProcess.start(tmp);
             EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.builder().start();
             SchemaRegistryClient client = SchemaRegistryClient.create(SerdeConfig.of(registry.url()).client());
             KafkaProducer<String, EmbeddingBatch> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                     ProducerConfig.ACKS_CONFIG, "all",
                     // Trainers wait out a broker that is down rather than drop a batch.
                     ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 180_000,
                     ProducerConfig.MAX_BLOCK_MS_CONFIG, 180_000,
                     ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000),
                     new StringSerializer(), new AvroSerializer<EmbeddingBatch>(client, SerdeConfig.of(registry.url()), false));
             MinedTopicReader mined = new MinedTopicReader(broker.bootstrapServers(), registry.url(), topics.mined())) {
            Properties properties = LiveMining.properties(prefix, broker.bootstrapServers(), registry.url(),
                    Files.createDirectories(tmp.resolve("state")),
                    "http.port", "0",
                    "memory.per-identity", Integer.toString(MEMORY.perIdentity()),
                    "memory.max-embeddings", Integer.toString(MEMORY.maxEmbeddings()),
                    "memory.max-bytes", Long.toString(MEMORY_MAX_BYTES));
            PacedPublisher publisher = new PacedPublisher(input, PUBLISH_INTERVAL, batch -> {
                try {
                    producer.send(new ProducerRecord<>(topics.embeddings(), batch.getJobId(), batch)).get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                } catch (ExecutionException e) {
                    throw new IllegalStateException("a batch could not be published", e);
                }
            });
            try (RunProcess run = RunProcess.start(tmp, properties, topics.embeddings())) {
                publisher.start();
                for (int bounce = 1; bounce <= BOUNCES; bounce++) {
                    mined.awaitAtLeast(BATCHES * bounce / (BOUNCES + 1), Duration.ofMinutes(2), run);
                    broker.kill();
                    Thread.sleep(DOWN.toMillis());
                    broker.restart();
                }
                publisher.awaitDone(Duration.ofMinutes(3));
                mined.awaitAtLeast(input.size(), Duration.ofMinutes(3), run);
                mined.readFor(Duration.ofSeconds(3));
                assertThat(run.process().isAlive()).as("run alive after the bounces:%n%s", run.output()).isTrue();
            }
            ExactlyOnce.assertMinedOnceAsReplayed(mined.byBatch(), input, MEMORY, MEMORY_MAX_BYTES);
            System.out.printf("broker bounce: %d bounces of %d s, %d batches each mined exactly once and as the replay "
                    + "mines it; %d MinedBatch records written in all%n", BOUNCES, DOWN.toSeconds(), input.size(),
                    mined.uncommittedCount());
        }
    }
}
