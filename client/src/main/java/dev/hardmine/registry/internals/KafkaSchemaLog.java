package dev.hardmine.registry.internals;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import dev.hardmine.registry.SchemaRegistryException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's log in a compacted single-partition Kafka topic, as Confluent's registry keeps it
 * in {@code _schemas} (same record format, {@link SchemasTopicCodec}).
 *
 * <p>On start the topic is created when missing ({@code cleanup.policy=compact}, one partition) and
 * read to its end before the registry serves. A reader thread then follows the topic and applies
 * every record; {@link #append} produces a record and waits until the reader has applied it, so
 * the state a request sees after a write always contains that write.
 *
 * <p>One registry instance per topic writes: ids are allocated from the state, without a leader
 * election between instances.
 */
public final class KafkaSchemaLog implements SchemaLog {

    private static final Logger log = LoggerFactory.getLogger(KafkaSchemaLog.class);

    private final String topic;
    private final TopicPartition partition;
    private final Map<String, Object> clientProperties;
    private final Duration timeout;
    private final Object progress = new Object();

    private KafkaProducer<byte[], byte[]> producer;
    private KafkaConsumer<byte[], byte[]> consumer;
    private Thread reader;
    private volatile boolean running;
    private volatile RuntimeException readerFailure;
    /** Offset of the next record the reader will apply; guarded by {@link #progress}. */
    private long appliedUpTo;

    /**
     * @param bootstrapServers Kafka bootstrap servers
     * @param topic            the schemas topic, usually {@code _schemas}
     * @param clientProperties extra client settings (security, for example), given to the admin,
     *                         producer and consumer alike
     * @param timeout          bound of the start-up read and of each write
     */
    public KafkaSchemaLog(String bootstrapServers, String topic, Map<String, ?> clientProperties, Duration timeout) {
        this.topic = Objects.requireNonNull(topic, "topic");
        this.partition = new TopicPartition(topic, 0);
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        Map<String, Object> props = new HashMap<>(clientProperties);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, Objects.requireNonNull(bootstrapServers, "bootstrapServers"));
        this.clientProperties = Map.copyOf(props);
    }

    @Override
    public void start(Consumer<LogEntry> sink) {
        ensureTopic();
        Map<String, Object> producerProps = new HashMap<>(clientProperties);
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        producerProps.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        producerProps.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout.toMillis());
        producerProps.put(ProducerConfig.CLIENT_ID_CONFIG, "hardmine-schema-registry-writer");
        producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(), new ByteArraySerializer());

        Map<String, Object> consumerProps = new HashMap<>(clientProperties);
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumerProps.put(ConsumerConfig.CLIENT_ID_CONFIG, "hardmine-schema-registry-reader");
        consumer = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        consumer.assign(List.of(partition));
        consumer.seekToBeginning(List.of(partition));
        long end = consumer.endOffsets(List.of(partition), timeout).get(partition);

        running = true;
        reader = new Thread(() -> follow(sink), "schema-registry-reader-" + topic);
        reader.setDaemon(true);
        reader.start();
        awaitApplied(end, "reading " + topic + " to its end (offset " + end + ")");
        log.info("Schema registry state read from {} up to offset {}", topic, end);
    }

    @Override
    public void append(LogEntry entry) {
        long offset;
        try {
            offset = producer.send(new ProducerRecord<>(topic, 0, SchemasTopicCodec.key(entry), SchemasTopicCodec.value(entry)))
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS).offset();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryException(500, SchemaRegistryException.STORE_ERROR, "Interrupted while writing to " + topic, e);
        } catch (ExecutionException e) {
            throw new SchemaRegistryException(500, SchemaRegistryException.STORE_ERROR,
                    "Error while writing to the Kafka store " + topic + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new SchemaRegistryException(500, SchemaRegistryException.STORE_TIMEOUT, "Write to the Kafka store " + topic + " timed out", e);
        }
        awaitApplied(offset + 1, "applying the write at offset " + offset);
    }

    private void follow(Consumer<LogEntry> sink) {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    applyRecord(record, sink);
                }
                long position = consumer.position(partition);
                synchronized (progress) {
                    appliedUpTo = position;
                    progress.notifyAll();
                }
            }
        } catch (WakeupException e) {
            if (running) {
                fail(new IllegalStateException("schemas reader woken up while running", e));
            }
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    private void applyRecord(ConsumerRecord<byte[], byte[]> record, Consumer<LogEntry> sink) {
        if (record.key() == null) {
            return;
        }
        Optional<LogEntry> entry;
        try {
            entry = SchemasTopicCodec.decode(record.key(), record.value());
        } catch (Exception e) {
            log.warn("Skipping unreadable record at {}@{}: {}", topic, record.offset(), e.toString());
            return;
        }
        try {
            entry.ifPresent(sink);
        } catch (SchemaRegistryException e) {
            // An invalid schema written by someone else: keep serving the rest.
            log.warn("Skipping record at {}@{}: {}", topic, record.offset(), e.getMessage());
        }
    }

    private void fail(RuntimeException e) {
        log.error("Schema registry reader of {} stopped", topic, e);
        synchronized (progress) {
            readerFailure = e;
            progress.notifyAll();
        }
    }

    private void awaitApplied(long offset, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (progress) {
            while (appliedUpTo < offset) {
                if (readerFailure != null) {
                    throw new SchemaRegistryException(500, SchemaRegistryException.STORE_ERROR,
                            "The reader of " + topic + " failed: " + readerFailure, readerFailure);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new SchemaRegistryException(500, SchemaRegistryException.STORE_TIMEOUT,
                            "Timed out after " + timeout + " " + what);
                }
                try {
                    progress.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SchemaRegistryException(500, SchemaRegistryException.STORE_ERROR, "Interrupted while " + what, e);
                }
            }
        }
    }

    private void ensureTopic() {
        try (Admin admin = Admin.create(clientProperties)) {
            long ms = timeout.toMillis();
            TopicDescription description;
            try {
                description = admin.describeTopics(List.of(topic)).allTopicNames().get(ms, TimeUnit.MILLISECONDS).get(topic);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw e;
                }
                int brokers = admin.describeCluster().nodes().get(ms, TimeUnit.MILLISECONDS).size();
                short replicas = (short) Math.max(1, Math.min(3, brokers));
                NewTopic newTopic = new NewTopic(topic, 1, replicas)
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
                try {
                    admin.createTopics(List.of(newTopic)).all().get(ms, TimeUnit.MILLISECONDS);
                    log.info("Created the schemas topic {} (compacted, 1 partition, {} replicas)", topic, replicas);
                } catch (ExecutionException exists) {
                    if (!(exists.getCause() instanceof TopicExistsException)) {
                        throw exists;
                    }
                }
                return;
            }
            if (description.partitions().size() != 1) {
                throw new IllegalStateException("The schemas topic " + topic + " must have exactly 1 partition, it has "
                        + description.partitions().size());
            }
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config config = admin.describeConfigs(List.of(resource)).all().get(ms, TimeUnit.MILLISECONDS).get(resource);
            String policy = config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value();
            if (!TopicConfig.CLEANUP_POLICY_COMPACT.equals(policy)) {
                throw new IllegalStateException("The schemas topic " + topic + " must have cleanup.policy=compact, it has "
                        + policy + ": with deletion, schemas and their ids would be lost");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while checking the schemas topic " + topic, e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new IllegalStateException("Could not check or create the schemas topic " + topic + " at "
                    + clientProperties.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG) + ": " + cause, cause);
        }
    }

    @Override
    public void close() {
        running = false;
        if (consumer != null) {
            consumer.wakeup();
        }
        if (reader != null) {
            try {
                reader.join(timeout.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (consumer != null) {
            consumer.close();
        }
        if (producer != null) {
            producer.close(Duration.ofSeconds(1));
        }
    }
}
