package dev.hardmine.stream;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.registry.SchemaFetcher;
import dev.hardmine.registry.SchemaRegistryException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.processor.internals.InternalProcessorContext;
import org.apache.kafka.streams.processor.internals.ProcessorRecordContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Holds back the batches of a partition while the schema registry has not given the writer schema
 * of the first of them, and lets them go, in their order, once it has: a registry outage delays
 * batches of new schemas, it does not dead-letter them, and batches whose schema is known flow on
 * in the other partitions meanwhile.
 *
 * <p>Why not wait in the deserializer: the stream thread deserializes for every partition it owns,
 * so a wait there would stop them all, and a wait past {@code max.poll.interval.ms} (5 min) would
 * get the instance thrown out of the group. Why not let Kafka Streams retry (fail the record,
 * replace the stream thread): under exactly-once that aborts the thread's transaction and rebuilds
 * its stores on every attempt. Here the source's deserializer ({@link #arrivals}) never waits:
 * when {@link SchemaFetcher} is still fetching the schema, it yields the record's bytes instead of
 * the batch. Such a record, and every record of the partition after it, is kept in the
 * {@value #STORE} store (with a changelog, written in the task's transaction, so a held record
 * survives a crash and moves with its partition) until the schema is there; a wall-clock
 * punctuation and each new record try to let them go.
 *
 * <p>A held record whose writer schema the registry then does not have (404) or that does not
 * decode becomes the same dead letter the deserialization handler would have written, sent on
 * the dead-letter topic in order with the batches. A released record goes on in its own record
 * context (topic, partition, offset, raw key and value), not in that of the record or punctuation
 * that let it go: a batch the miner then rejects (dim mismatch, …) is the dead letter of its own
 * record, with its bytes and source offset, as if it had never been held. Kafka Streams has no
 * public API for this; {@link #forward} uses its internal one, the one its own processors use.
 */
final class HeldBatches implements Processor<String, HeldBatches.Arrival, String, HeldBatches.Released> {
    /** The store of held records, per task: sequence number → record. */
    static final String STORE = "held-batches";
    /** Format of a held record in the store; the first byte of each value. */
    static final byte FORMAT_VERSION = 1;
    /** How often held records are tried again without waiting for the next record. */
    static final Duration RETRY_EVERY = Duration.ofMillis(250);

    /**
     * A record of the embeddings topic as the source reads it: the decoded batch, or (batch null)
     * only its bytes, while the registry has not given its writer schema.
     */
    record Arrival(EmbeddingBatch batch, byte[] payload) {
        boolean held() {
            return batch == null && payload != null;
        }
    }

    /** What goes on: a batch (null for a record without a value), or a dead letter. */
    record Released(EmbeddingBatch batch, ProducerRecord<byte[], byte[]> deadLetter) {
    }

    /**
     * The source's deserializer: the batch when its writer schema is at hand (or decoding fails
     * for good: the deserialization handler dead-letters it), the bytes alone while the registry
     * is waited for.
     */
    static Deserializer<Arrival> arrivals(Deserializer<EmbeddingBatch> batches, SchemaFetcher schemas) {
        return new Deserializer<>() {
            @Override
            public Arrival deserialize(String topic, byte[] payload) {
                return deserialize(topic, new RecordHeaders(), payload);
            }

            @Override
            public Arrival deserialize(String topic, Headers headers, byte[] payload) {
                if (payload == null) {
                    return null;
                }
                if (!schemas.isReady(payload)) {
                    return new Arrival(null, payload);
                }
                try {
                    return new Arrival(batches.deserialize(topic, headers, payload), payload);
                } catch (SchemaRegistryException e) {
                    // The registry failed between the fetch and this request (its "no such schema" is
                    // an UnknownSchemaIdException): the record waits like any other for it.
                    return new Arrival(null, payload);
                }
            }
        };
    }

    private final String topic;
    private final Deserializer<Arrival> arrivals;
    private ProcessorContext<String, Released> context;
    private KeyValueStore<Long, byte[]> store;
    private DeadLetters.OnDeserialization deadLetters;
    private long next;
    private long held;

    /**
     * @param topic    the embeddings topic (the source of the records held)
     * @param arrivals decodes a held record again, as the source did
     */
    HeldBatches(String topic, Deserializer<Arrival> arrivals) {
        this.topic = topic;
        this.arrivals = arrivals;
    }

    @Override
    public void init(ProcessorContext<String, Released> context) {
        this.context = context;
        this.store = context.getStateStore(STORE);
        // Kafka Streams may initialise this processor again after a task's state was rebuilt: count afresh.
        next = 0;
        held = 0;
        try (KeyValueIterator<Long, byte[]> it = store.all()) {
            while (it.hasNext()) {
                next = it.next().key + 1;
                held++;
            }
        }
        deadLetters = new DeadLetters.OnDeserialization();
        deadLetters.configure(context.appConfigs());
        context.schedule(RETRY_EVERY, PunctuationType.WALL_CLOCK_TIME, now -> release());
    }

    @Override
    public void process(Record<String, Arrival> record) {
        release();
        Arrival arrival = record.value();
        if (held == 0 && (arrival == null || !arrival.held())) {
            context.forward(record.withValue(new Released(arrival == null ? null : arrival.batch(), null)));
            return;
        }
        RecordMetadata source = context.recordMetadata().orElseThrow();
        store.put(next++, encode(new Held(source.partition(), source.offset(), record.timestamp(), record.key(),
                arrival == null ? null : arrival.payload(), record.headers())));
        held++;
    }

    /** Lets held records go, oldest first, up to the first whose writer schema is still awaited. */
    private void release() {
        if (held == 0) {
            return;
        }
        List<Long> released = new ArrayList<>();
        try (KeyValueIterator<Long, byte[]> it = store.all()) {
            while (it.hasNext()) {
                KeyValue<Long, byte[]> entry = it.next();
                Held h = decode(entry.value);
                Released out;
                try {
                    Arrival arrival = h.payload() == null ? null : arrivals.deserialize(topic, h.headers(), h.payload());
                    if (arrival != null && arrival.held()) {
                        break;
                    }
                    out = new Released(arrival == null ? null : arrival.batch(), null);
                } catch (RuntimeException e) {
                    out = new Released(null, deadLetter(h, e));
                }
                released.add(entry.key);
                forward(h, out);
            }
        }
        released.forEach(store::delete);
        held -= released.size();
    }

    /**
     * Forwards what a held record became in the record context it was read in, so that Kafka
     * Streams' exception handlers downstream see its source and bytes.
     */
    private void forward(Held h, Released out) {
        Headers headers = out.deadLetter() != null ? out.deadLetter().headers() : h.headers();
        Record<String, Released> record = new Record<>(h.key(), out, h.timestamp(), headers);
        if (!(context instanceof InternalProcessorContext<?, ?> internal)) {
            context.forward(record); // a test's mock context: no record context to set
            return;
        }
        ProcessorRecordContext current = internal.recordContext();
        internal.setRecordContext(new ProcessorRecordContext(h.timestamp(), h.offset(), h.partition(), topic, headers,
                h.rawKey(), h.payload()));
        try {
            context.forward(record);
        } finally {
            internal.setRecordContext(current);
        }
    }

    /** The dead letter the deserialization handler writes for this record, counted as it counts. */
    private ProducerRecord<byte[], byte[]> deadLetter(Held h, Exception e) {
        byte[] key = h.rawKey();
        ConsumerRecord<byte[], byte[]> raw = new ConsumerRecord<>(topic, h.partition(), h.offset(), h.timestamp(),
                TimestampType.CREATE_TIME, key == null ? -1 : key.length, h.payload().length, key, h.payload(),
                h.headers(), java.util.Optional.empty());
        return deadLetters.handleError(errorContext(h, key), raw, e).deadLetterQueueRecords().get(0);
    }

    private ErrorHandlerContext errorContext(Held h, byte[] key) {
        TaskId task = context.taskId();
        return new ErrorHandlerContext() {
            @Override
            public String topic() {
                return topic;
            }

            @Override
            public int partition() {
                return h.partition();
            }

            @Override
            public long offset() {
                return h.offset();
            }

            @Override
            public Headers headers() {
                return h.headers();
            }

            @Override
            public String processorNodeId() {
                return MiningTopology.HOLD_NODE;
            }

            @Override
            public TaskId taskId() {
                return task;
            }

            @Override
            public long timestamp() {
                return h.timestamp();
            }

            @Override
            public byte[] sourceRawKey() {
                return key;
            }

            @Override
            public byte[] sourceRawValue() {
                return h.payload();
            }
        };
    }

    /** A held record: where it came from, its key, value bytes (null: none) and headers. */
    record Held(int partition, long offset, long timestamp, String key, byte[] payload, Headers headers) {
        /** The key's bytes as the source read them (the key serde's UTF-8), or null. */
        byte[] rawKey() {
            return key == null ? null : key.getBytes(StandardCharsets.UTF_8);
        }
    }

    /**
     * Version, partition, offset, timestamp, then key, payload and each header's name and value as
     * length-prefixed bytes (length -1: null), the header count before the headers.
     */
    static byte[] encode(Held h) {
        byte[] key = h.rawKey();
        Header[] headers = h.headers().toArray();
        List<byte[]> headerParts = new ArrayList<>();
        for (Header header : headers) {
            headerParts.add(header.key().getBytes(StandardCharsets.UTF_8));
            headerParts.add(header.value());
        }
        int size = 1 + 4 + 8 + 8 + length(key) + length(h.payload()) + 4;
        for (byte[] part : headerParts) {
            size += length(part);
        }
        ByteBuffer out = ByteBuffer.allocate(size).put(FORMAT_VERSION).putInt(h.partition()).putLong(h.offset())
                .putLong(h.timestamp());
        putBytes(out, key);
        putBytes(out, h.payload());
        out.putInt(headers.length);
        headerParts.forEach(part -> putBytes(out, part));
        return out.array();
    }

    private static int length(byte[] bytes) {
        return 4 + (bytes == null ? 0 : bytes.length);
    }

    static Held decode(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        byte version = in.get();
        if (version != FORMAT_VERSION) {
            throw new IllegalStateException("held record of format " + version + ", this version reads "
                    + FORMAT_VERSION + " only");
        }
        int partition = in.getInt();
        long offset = in.getLong();
        long timestamp = in.getLong();
        byte[] key = getBytes(in);
        byte[] payload = getBytes(in);
        int count = in.getInt();
        Headers headers = new RecordHeaders();
        for (int i = 0; i < count; i++) {
            headers.add(new String(getBytes(in), StandardCharsets.UTF_8), getBytes(in));
        }
        return new Held(partition, offset, timestamp, key == null ? null : new String(key, StandardCharsets.UTF_8),
                payload, headers);
    }

    private static void putBytes(ByteBuffer out, byte[] bytes) {
        if (bytes == null) {
            out.putInt(-1);
        } else {
            out.putInt(bytes.length).put(bytes);
        }
    }

    private static byte[] getBytes(ByteBuffer in) {
        int length = in.getInt();
        if (length < 0) {
            return null;
        }
        byte[] bytes = new byte[length];
        in.get(bytes);
        return bytes;
    }
}
