package dev.hardmine.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.testing.PrometheusText;
import dev.hardmine.testing.SharedKafkaBroker;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The consumer lag gauge against a real broker: end offsets minus the group's commits. */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(60)
class ConsumerLagTest {

    @Test
    void lagIsTheEndOffsetMinusTheCommittedOneAndCountsFromTheEarliestWithoutACommit(EmbeddedKafkaBroker kafka)
            throws Exception {
        String topic = "lag-" + UUID.randomUUID();
        String group = "lag-group-" + UUID.randomUUID();
        kafka.createTopics(2, topic);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k", "v" + i));
            }
            for (int i = 0; i < 4; i++) {
                producer.send(new ProducerRecord<>(topic, 1, "k", "v" + i));
            }
            producer.flush();
        }
        try (Admin admin = kafka.admin()) {
            // Partition 0: the group has processed 2 of 5, lag 3; partition 1: nothing committed,
            // 4 records, lag 4. Different lags, so that a lag reported on the wrong partition fails.
            admin.alterConsumerGroupOffsets(group, Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(2)))
                    .all().get(20, TimeUnit.SECONDS);
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (ConsumerLag lag = new ConsumerLag(registry,
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), group, topic,
                Duration.ofHours(1))) {
            lag.refresh();
            PrometheusText p = PrometheusText.parse(registry.scrape());
            assertThat(p.value("hardmine_consumer_lag", "topic", topic, "partition", "0")).isEqualTo(3.0);
            assertThat(p.value("hardmine_consumer_lag", "topic", topic, "partition", "1")).isEqualTo(4.0);
        }
    }
}
