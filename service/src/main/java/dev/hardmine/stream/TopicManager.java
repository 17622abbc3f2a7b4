package dev.hardmine.stream;

import dev.hardmine.client.Topics;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Creates hardmine's topics when they are missing and checks them when present: the embeddings
 * topic, the mined, stats and dead-letter topics with {@code topics.partitions} partitions, and
 * the compacted jobs and neighbours topics. A present topic with another partition count, or a jobs topic that is
 * not compacted, stops start-up with a message saying what to change.
 */
public final class TopicManager {
    private static final long TIMEOUT_SECONDS = 30;

    private TopicManager() {
    }

    public static void ensure(Admin admin, ServiceConfig config) {
        Topics t = config.topics();
        Map<String, Map<String, String>> wanted = new HashMap<>();
        wanted.put(t.embeddings(), Map.of());
        wanted.put(t.mined(), Map.of());
        wanted.put(t.stats(), Map.of());
        wanted.put(t.dlq(), Map.of());
        wanted.put(t.jobs(), Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
        // Only each identity's latest list matters.
        wanted.put(t.neighbors(), Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
        try {
            Set<String> existing = admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (var e : wanted.entrySet()) {
                if (!existing.contains(e.getKey())) {
                    missing.add(new NewTopic(e.getKey(), Optional.of(config.topicPartitions()),
                            config.topicReplicationFactor() == -1 ? Optional.empty()
                                    : Optional.of(config.topicReplicationFactor()))
                            .configs(e.getValue()));
                }
            }
            if (!missing.isEmpty()) {
                try {
                    admin.createTopics(missing).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            checkOnceVisible(admin, config, wanted.keySet());
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot create or check hardmine's topics: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking topics", e);
        }
    }

    /**
     * Checks the topics, waiting (bounded) for those just created to become visible: a topic
     * exists once the controller has it, but a broker answers describe requests only after its
     * metadata caught up, until then with UNKNOWN_TOPIC_OR_PARTITION.
     */
    private static void checkOnceVisible(Admin admin, ServiceConfig config, Collection<String> names)
            throws ExecutionException, InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (true) {
            try {
                check(admin, config, names);
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    private static void check(Admin admin, ServiceConfig config, Collection<String> names)
            throws ExecutionException, InterruptedException, TimeoutException {
        Map<String, TopicDescription> described = admin.describeTopics(names).allTopicNames()
                .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        List<String> problems = new ArrayList<>();
        for (String name : names) {
            int partitions = described.get(name).partitions().size();
            if (partitions != config.topicPartitions()) {
                problems.add("topic " + name + " has " + partitions + " partitions but topics.partitions is "
                        + config.topicPartitions() + " (set topics.partitions=" + partitions
                        + " or recreate the topic)");
            }
        }
        ConfigResource jobs = new ConfigResource(ConfigResource.Type.TOPIC, config.topics().jobs());
        Config jobsConfig = admin.describeConfigs(List.of(jobs)).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS).get(jobs);
        String policy = jobsConfig.get(TopicConfig.CLEANUP_POLICY_CONFIG).value();
        if (!policy.contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
            problems.add("topic " + config.topics().jobs() + " must be compacted but has cleanup.policy=" + policy
                    + " (set it: kafka-configs --bootstrap-server " + config.bootstrapServers()
                    + " --alter --entity-type topics --entity-name " + config.topics().jobs()
                    + " --add-config cleanup.policy=compact; or delete the topic and hardmine creates it)");
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException(String.join("; ", problems));
        }
    }
}
