package dev.hardmine.replay;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.registry.AvroDeserializer;
import dev.hardmine.registry.SchemaRegistryClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.avro.file.CodecFactory;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records the embeddings topic, from its beginning, into an Avro object container file of
 * EmbeddingBatch — the input of {@code replay --input-format avro}. Records that do not decode are
 * left out (the miner dead-letters them too). Each partition's order is kept, so each job's
 * batches are recorded in the order the miner saw them. The file appears under its name when the
 * recorder closes, after it has caught up with the topic.
 */
public final class EmbeddingRecorder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddingRecorder.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroDeserializer<EmbeddingBatch> deserializer;
    private final DataFileWriter<EmbeddingBatch> writer;
    private final Path target;
    private final Path partial;
    private final String topic;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private volatile long recorded;

    public EmbeddingRecorder(Map<String, Object> kafka, String topic, SchemaRegistryClient registry, Path file)
            throws IOException {
        Map<String, Object> props = new HashMap<>(kafka);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        this.topic = topic;
        this.target = file.toAbsolutePath();
        this.partial = target.resolveSibling("." + target.getFileName() + ".partial");
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.deserializer = new AvroDeserializer<>(EmbeddingBatch.class, registry);
        this.writer = new DataFileWriter<>(new SpecificDatumWriter<>(EmbeddingBatch.class));
        writer.setCodec(CodecFactory.deflateCodec(1));
        writer.create(EmbeddingBatch.getClassSchema(), partial.toFile());
        List<TopicPartition> partitions = new ArrayList<>();
        for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
            partitions.add(new TopicPartition(topic, p.partition()));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        thread = new Thread(this::run, "embedding-recorder");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        try {
            while (running.get()) {
                poll();
            }
            // Catch up with everything published before close.
            Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment());
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (System.nanoTime() < deadline && !end.entrySet().stream()
                    .allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
                poll();
            }
        } catch (RuntimeException | IOException e) {
            LOG.error("recording {} stopped", topic, e);
        }
    }

    private void poll() throws IOException {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
            EmbeddingBatch batch;
            try {
                batch = deserializer.deserialize(topic, r.headers(), r.value());
            } catch (RuntimeException e) {
                continue;
            }
            if (batch != null) {
                writer.append(batch);
                recorded++;
            }
        }
    }

    /** Batches recorded so far. */
    public long recorded() {
        return recorded;
    }

    /** Catches up with the topic (bounded), then moves the finished file into place. */
    @Override
    public void close() {
        running.set(false);
        try {
            thread.join(30_000);
            consumer.close();
            writer.close();
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
