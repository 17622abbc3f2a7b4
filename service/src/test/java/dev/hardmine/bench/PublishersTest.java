package dev.hardmine.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.registry.internals.WireFormat;
import dev.hardmine.testing.SharedKafkaBroker;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * At a fixed offered rate each publisher stamps a batch's {@code produced_at} with the time it was
 * due: sent on time, that is when Kafka received it too. A stamp earlier than the send would add
 * time to every measured latency that the service never spent.
 */
@ExtendWith(SharedKafkaBroker.class)
class PublishersTest {
    private final EmbeddedKafkaBroker kafka;

    PublishersTest(EmbeddedKafkaBroker kafka) {
        this.kafka = kafka;
    }

    @Test
    void atAFixedRateEachBatchIsStampedWithTheTimeItWasSent() throws Exception {
        String topic = "bench-publishers-" + UUID.randomUUID();
        kafka.createTopics(1, topic);
        SyntheticEmbeddings data = new SyntheticEmbeddings(16, 8, 0.1f, 1);
        List<BatchPool> pools = List.of(BatchPool.generate(data, "p0", 2, 4, 4), BatchPool.generate(data, "p1", 2, 4, 4));
        Map<String, Object> clients = Map.of("bootstrap.servers", kafka.bootstrapServers());
        // 2 workers × 16 samples at 32 samples/s: one batch per worker and second, the second
        // worker half a second after the first.
        try (Publishers publishers = new Publishers(List.of("job", "job"), pools, 1, topic, clients, 8)) {
            publishers.start();
            publishers.offer(32);
            Thread.sleep(3_500);
            publishers.pause();
        }

        List<long[]> stamps = new ArrayList<>(); // {publisher, produced_at, Kafka's create time}
        Map<String, Object> p = new HashMap<>(clients);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.assign(List.of(new TopicPartition(topic, 0)));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (stamps.size() < 6 && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    stamps.add(stamp(r));
                }
            }
        }
        assertThat(stamps).hasSizeGreaterThanOrEqualTo(6);
        assertThat(stamps).extracting(s -> s[0]).contains(0L, 1L);
        for (long[] s : stamps) {
            assertThat(s[2] - s[1]).as("send time − produced_at of a batch of publisher %d", s[0])
                    .isBetween(-5L, 200L);
        }
    }

    private static long[] stamp(ConsumerRecord<byte[], byte[]> r) throws IOException {
        byte[] v = r.value();
        BinaryDecoder in = DecoderFactory.get().binaryDecoder(v, WireFormat.HEADER_SIZE,
                v.length - WireFormat.HEADER_SIZE, null);
        in.readString(); // job_id
        String worker = in.readString().toString();
        in.readString(); // batch_id
        in.readLong(); // step
        in.readString(); // model_version
        long producedAt = in.readLong();
        return new long[] {Long.parseLong(worker.substring(1)), producedAt, r.timestamp()};
    }
}
