package dev.hardmine.stream;

import dev.hardmine.client.Topics;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.SharedKafkaBroker;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Start-up creates the topics that are missing and refuses topics it cannot work with, saying what to fix. */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(60)
class TopicManagerIntegrationTest {
    @TempDir
    Path tmp;
    private EmbeddedKafkaBroker kafka;
    private LiveMining live;
    private Admin admin;

    @BeforeEach
    void slice(EmbeddedKafkaBroker kafka) {
        this.kafka = kafka;
        live = new LiveMining(kafka, "mock://topics-" + tmp.getFileName(), tmp);
        admin = kafka.admin();
    }

    @AfterEach
    void close() {
        admin.close();
        live.close();
    }

    private ServiceConfig config(String... keyValues) {
        return ServiceConfig.fromProperties(live.properties(keyValues));
    }

    @Test
    void createsMissingTopicsWithTheConfiguredPartitionsAndACompactedJobsTopic() throws Exception {
        ServiceConfig config = config("topics.partitions", "3");
        Topics t = config.topics();
        kafka.createTopics(3, t.mined());

        TopicManager.ensure(admin, config);

        Map<String, TopicDescription> described = admin.describeTopics(t.all()).allTopicNames().get(10, TimeUnit.SECONDS);
        assertThat(described).containsOnlyKeys(t.all());
        described.values().forEach(d -> assertThat(d.partitions()).as(d.name()).hasSize(3));
        assertThat(cleanupPolicy(t.jobs())).isEqualTo(TopicConfig.CLEANUP_POLICY_COMPACT);
        assertThat(cleanupPolicy(t.embeddings())).isEqualTo(TopicConfig.CLEANUP_POLICY_DELETE);
        // A second start finds everything in place.
        TopicManager.ensure(admin, config);
    }

    @Test
    void checksTopicsItHasJustCreatedOnceTheBrokerKnowsThem() {
        // Right after creation a broker may not describe a topic yet (it did so 29 times in 30 here).
        for (int i = 0; i < 5; i++) {
            ServiceConfig config = config("topics.prefix", live.prefix() + i + ".");
            TopicManager.ensure(admin, config);
        }
    }

    @Test
    void aPresentTopicWithAnotherPartitionCountStopsStartUpNamingTheTopicAndTheFix() {
        ServiceConfig config = config("topics.partitions", "2");
        kafka.createTopics(4, config.topics().embeddings());

        try (MinerService service = new MinerService(config)) {
            assertThatThrownBy(service::start)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("topic " + config.topics().embeddings() + " has 4 partitions")
                    .hasMessageContaining("topics.partitions=4");
        }
    }

    @Test
    void aJobsTopicThatIsNotCompactedStopsStartUpNamingTheTopicAndTheFix() {
        ServiceConfig config = config();
        kafka.createTopics(List.of(new NewTopic(config.topics().jobs(), 2, (short) 1)
                .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE))));

        assertThatThrownBy(() -> TopicManager.ensure(admin, config))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("topic " + config.topics().jobs())
                .hasMessageContaining("cleanup.policy=compact")
                .hasMessageContaining("kafka-configs");
    }

    /**
     * The memory store's changelog is created by Kafka Streams, compacted, with segments of 64 MiB
     * (the log cleaner compacts closed segments: small ones keep each compaction short); a
     * {@code kafka.topic.segment.bytes} setting chooses another size.
     */
    @Test
    void theMemoryChangelogIsCompactedInSegmentsOf64MiBUnlessTheSettingsSayOtherwise() throws Exception {
        live.start(live.properties());
        live.start(live.properties("application.id", live.prefix() + "chosen",
                "kafka.topic.segment.bytes", Integer.toString(32 << 20)));

        String defaulted = live.prefix() + "app-" + MemoryStore.NAME + "-changelog";
        String chosen = live.prefix() + "chosen-" + MemoryStore.NAME + "-changelog";
        for (String changelog : List.of(defaulted, chosen)) {
            assertThat(topicConfig(changelog, TopicConfig.CLEANUP_POLICY_CONFIG)).isEqualTo(TopicConfig.CLEANUP_POLICY_COMPACT);
        }
        assertThat(topicConfig(defaulted, TopicConfig.SEGMENT_BYTES_CONFIG))
                .isEqualTo(Integer.toString(MinerService.INTERNAL_TOPIC_SEGMENT_BYTES)).isEqualTo("67108864");
        assertThat(topicConfig(chosen, TopicConfig.SEGMENT_BYTES_CONFIG)).isEqualTo("33554432");
    }

    private String cleanupPolicy(String topic) throws Exception {
        return topicConfig(topic, TopicConfig.CLEANUP_POLICY_CONFIG);
    }

    private String topicConfig(String topic, String name) throws Exception {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config c = admin.describeConfigs(List.of(r)).all().get(10, TimeUnit.SECONDS).get(r);
        return c.get(name).value();
    }
}
