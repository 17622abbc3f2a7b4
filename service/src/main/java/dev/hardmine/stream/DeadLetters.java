package dev.hardmine.stream;

import dev.hardmine.mining.InvalidBatchException;
import dev.hardmine.registry.AvroDecodeException;
import dev.hardmine.registry.BadMagicByteException;
import dev.hardmine.registry.MalformedKeyException;
import dev.hardmine.registry.TruncatedPayloadException;
import dev.hardmine.registry.UnknownSchemaIdException;
import dev.hardmine.registry.WireFormatException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.internals.GlobalStreamThread;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bad input goes to the dead-letter topic through Kafka Streams' own exception handlers (which
 * write it in the same transaction as the rest of the task's output; a JobConfig's, read on the
 * global thread outside any transaction, through {@link GlobalLetters}): the record's original key
 * and value bytes, unchanged, with headers saying why, where from and when. Processing goes on.
 *
 * <p>Headers: {@value #REASON} (a stable code, one of {@link #REASONS}: {@code unknown-schema-id},
 * {@code truncated}, {@code bad-magic-byte}, {@code avro-decode}, {@code embedding-length},
 * {@code non-finite-embedding}, {@code dim-mismatch}, …), {@value #MESSAGE}, {@value #SOURCE_TOPIC},
 * {@value #SOURCE_PARTITION}, {@value #SOURCE_OFFSET}, {@value #FAILED_AT} (epoch milliseconds),
 * {@value #EXCEPTION}.
 */
public final class DeadLetters {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);

    /** Streams configuration key: the dead-letter topic. */
    public static final String TOPIC_CONFIG = "hardmine.dlq.topic";
    /** Streams configuration key: a {@link Counter} instance to count dead letters by reason. */
    public static final String COUNTER_CONFIG = "hardmine.dlq.counter";
    /** Streams configuration key: the {@link GlobalLetters} that write the global thread's dead letters. */
    public static final String GLOBAL_LETTERS_CONFIG = "hardmine.dlq.global-letters";

    public static final String REASON = "hardmine.reason";
    public static final String MESSAGE = "hardmine.message";
    public static final String SOURCE_TOPIC = "hardmine.source.topic";
    public static final String SOURCE_PARTITION = "hardmine.source.partition";
    public static final String SOURCE_OFFSET = "hardmine.source.offset";
    public static final String FAILED_AT = "hardmine.failed.at";
    public static final String EXCEPTION = "hardmine.exception";

    /** Reason of a record that cannot be decoded for a cause that carries no reason of its own. */
    public static final String DESERIALIZATION = "deserialization";
    /** Reason of any other failure while processing a record. */
    public static final String PROCESSING_ERROR = "processing-error";
    /** Reason of output that cannot be written (other than retriable errors). */
    public static final String PRODUCTION_ERROR = "production-error";
    /** Reason of output that cannot be serialised. */
    public static final String SERIALIZATION_ERROR = "serialization-error";

    /**
     * Every reason a dead letter can carry: the wire format's, the batch contract's and the
     * handlers' own. Known before the first dead letter, so that metrics can show each at 0.
     */
    public static final List<String> REASONS = List.of(
            UnknownSchemaIdException.REASON, TruncatedPayloadException.REASON, BadMagicByteException.REASON,
            AvroDecodeException.REASON, MalformedKeyException.REASON,
            InvalidBatchException.MALFORMED, InvalidBatchException.EMPTY_ID, InvalidBatchException.DUPLICATE_SAMPLE_ID,
            InvalidBatchException.EMBEDDING_LENGTH, InvalidBatchException.NON_FINITE,
            InvalidBatchException.DIM_MISMATCH, InvalidBatchException.BAD_DIM, InvalidBatchException.BATCH_TOO_LARGE,
            InvalidBatchException.DIM_TOO_LARGE, InvalidBatchException.KEY_MISMATCH,
            InvalidBatchException.ID_TOO_LONG, InvalidJobConfigException.INVALID, DESERIALIZATION, PROCESSING_ERROR,
            PRODUCTION_ERROR, SERIALIZATION_ERROR);

    private DeadLetters() {
    }

    /** Dead letters counted by reason, for metrics; each one is also passed to an observer. */
    public static final class Counter {
        private final Map<String, LongAdder> byReason = new ConcurrentHashMap<>();
        private final MiningObserver observer;

        public Counter() {
            this(MiningObserver.NONE);
        }

        public Counter(MiningObserver observer) {
            this.observer = observer;
        }

        void increment(String reason) {
            byReason.computeIfAbsent(reason, r -> new LongAdder()).increment();
            observer.deadLetter(reason);
        }

        public Map<String, Long> snapshot() {
            Map<String, Long> out = new java.util.TreeMap<>();
            byReason.forEach((r, n) -> out.put(r, n.sum()));
            return out;
        }

        public long total() {
            return byReason.values().stream().mapToLong(LongAdder::sum).sum();
        }
    }

    /** The stable reason code of a failure: the first cause that carries one. */
    public static String reasonOf(Throwable e, String fallback) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof WireFormatException w) {
                return w.reason();
            }
            if (t instanceof InvalidBatchException b) {
                return b.reason();
            }
            if (t instanceof InvalidJobConfigException j) {
                return j.reason();
            }
        }
        return fallback;
    }

    private static String messageOf(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof WireFormatException || t instanceof InvalidBatchException
                    || t instanceof InvalidJobConfigException) {
                return t.getMessage();
            }
        }
        return String.valueOf(e.getMessage());
    }

    static ProducerRecord<byte[], byte[]> deadLetter(String topic, ErrorHandlerContext ctx, byte[] key, byte[] value,
                                                     String reason, Throwable e) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(REASON, utf8(reason));
        headers.add(MESSAGE, utf8(messageOf(e)));
        headers.add(SOURCE_TOPIC, utf8(ctx.topic()));
        headers.add(SOURCE_PARTITION, utf8(Integer.toString(ctx.partition())));
        headers.add(SOURCE_OFFSET, utf8(Long.toString(ctx.offset())));
        headers.add(FAILED_AT, utf8(Long.toString(System.currentTimeMillis())));
        headers.add(EXCEPTION, utf8(e.getClass().getName()));
        return new ProducerRecord<>(topic, null, key, value, headers);
    }

    private static byte[] utf8(String s) {
        return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Writes the dead letters of the global thread, which reads the jobs topic: Kafka Streams
     * writes a handler's dead letters with the task's record collector, and the global thread has
     * none (Kafka Streams 4.4 fails the thread, and with it the whole service, on the cast of a
     * deserialization letter, and drops a processing letter with a warning). These letters go
     * through a producer of their own, made on the first one; the record is skipped only once its
     * letter is written, and a letter that cannot be written fails the global thread with the
     * record unread, as a failure to write any output does.
     *
     * <p>The global thread's processing, unlike its restore, hands the handler no bytes of the
     * record: {@link #original} reads them back from the jobs topic, at the record's offset.
     */
    public static final class GlobalLetters implements AutoCloseable {
        /** How long reading a record back may take before its letter counts as not written. */
        static final Duration READ_BACK_TIMEOUT = Duration.ofSeconds(30);

        private final Map<String, Object> producerSettings;
        private final Map<String, Object> consumerSettings;
        private KafkaProducer<byte[], byte[]> producer;
        private boolean closed;

        /** @param clientSettings bootstrap servers and security settings of the service's cluster */
        public GlobalLetters(Map<String, Object> clientSettings) {
            Map<String, Object> p = new HashMap<>(clientSettings);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            this.producerSettings = p;
            Map<String, Object> c = new HashMap<>(clientSettings);
            c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted"); // the record at its offset, whatever follows
            c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
            this.consumerSettings = c;
        }

        /** The record at {@code offset} of {@code topic}'s {@code partition}, its bytes as written. */
        ConsumerRecord<byte[], byte[]> original(String topic, int partition, long offset) {
            TopicPartition where = new TopicPartition(topic, partition);
            try (KafkaConsumer<byte[], byte[]> consumer =
                         new KafkaConsumer<>(consumerSettings, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                consumer.assign(List.of(where));
                consumer.seek(where, offset);
                long deadline = System.nanoTime() + READ_BACK_TIMEOUT.toNanos();
                while (System.nanoTime() < deadline) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200)).records(where)) {
                        if (r.offset() != offset) {
                            throw new IllegalStateException("the record at " + where + "@" + offset
                                    + " is gone (the next is at " + r.offset() + "): its dead letter cannot be written");
                        }
                        return r;
                    }
                }
            }
            throw new IllegalStateException("could not read back " + where + "@" + offset
                    + " for its dead letter within " + READ_BACK_TIMEOUT.toSeconds() + " s");
        }

        synchronized void write(List<ProducerRecord<byte[], byte[]>> letters) {
            if (closed) {
                throw new IllegalStateException("the service is closed: dead letters of the jobs topic not written");
            }
            if (producer == null) {
                producer = new KafkaProducer<>(producerSettings, new ByteArraySerializer(), new ByteArraySerializer());
            }
            try {
                for (ProducerRecord<byte[], byte[]> letter : letters) {
                    producer.send(letter).get();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while writing a dead letter of the jobs topic", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("could not write a dead letter of the jobs topic", e.getCause());
            }
        }

        @Override
        public synchronized void close() {
            closed = true;
            if (producer != null) {
                producer.close(Duration.ofSeconds(10));
            }
        }
    }

    /** Shared configuration of the three handlers. */
    abstract static class Handler {
        String topic;
        Counter counter;
        GlobalLetters globalLetters;

        public void configure(Map<String, ?> configs) {
            Object t = configs.get(TOPIC_CONFIG);
            if (t == null) {
                throw new IllegalStateException(TOPIC_CONFIG + " is not configured");
            }
            topic = t.toString();
            Object c = configs.get(COUNTER_CONFIG);
            counter = c instanceof Counter given ? given : new Counter();
            globalLetters = configs.get(GLOBAL_LETTERS_CONFIG) instanceof GlobalLetters given ? given : null;
        }

        List<ProducerRecord<byte[], byte[]>> letter(ErrorHandlerContext ctx, byte[] key, byte[] value, String reason,
                                                    Throwable e) {
            counter.increment(reason);
            LOG.warn("dead letter from {}-{}@{}: {} ({})", ctx.topic(), ctx.partition(), ctx.offset(), reason,
                    messageOf(e));
            return List.of(deadLetter(topic, ctx, key, value, reason, e));
        }
    }

    /**
     * Records that cannot be decoded: unknown schema id, truncated bytes, wrong magic byte, bad Avro.
     * A JobConfig whose wait for the registry was stopped is none of these: it fails the global
     * thread, which is stopping anyway, so that the record is read again at the next start ({@link AwaitingSchema}).
     */
    public static final class OnDeserialization extends Handler implements DeserializationExceptionHandler {
        @Override
        public Response handleError(ErrorHandlerContext ctx, ConsumerRecord<byte[], byte[]> record, Exception e) {
            if (e instanceof AwaitingSchema.Stopped) {
                return Response.fail(); // not bad input: the record stays unread, for the next start
            }
            List<ProducerRecord<byte[], byte[]>> letters =
                    letter(ctx, record.key(), record.value(), reasonOf(e, DESERIALIZATION), e);
            if (globalLetters != null && Thread.currentThread() instanceof GlobalStreamThread) {
                globalLetters.write(letters);
                return Response.resume();
            }
            return Response.resume(letters);
        }
    }

    /**
     * Records that decode but violate the contract (thrown by the miner, or by the jobs table on the
     * global thread: {@link InvalidJobConfigException}), and any other processing failure.
     */
    public static final class OnProcessing extends Handler implements ProcessingExceptionHandler {
        @Override
        public Response handleError(ErrorHandlerContext ctx, Record<?, ?> record, Exception e) {
            String reason = reasonOf(e, PROCESSING_ERROR);
            if (reason.equals(PROCESSING_ERROR)) {
                LOG.error("unexpected failure while processing {}-{}@{}", ctx.topic(), ctx.partition(), ctx.offset(), e);
            }
            if (globalLetters != null && Thread.currentThread() instanceof GlobalStreamThread) {
                byte[] key = ctx.sourceRawKey();
                byte[] value = ctx.sourceRawValue();
                if (key == null) { // processing, not restore: every record that reaches the jobs table has a key
                    ConsumerRecord<byte[], byte[]> original = globalLetters.original(ctx.topic(), ctx.partition(),
                            ctx.offset());
                    key = original.key();
                    value = original.value();
                }
                globalLetters.write(letter(ctx, key, value, reason, e));
                return Response.resume();
            }
            return Response.resume(letter(ctx, ctx.sourceRawKey(), ctx.sourceRawValue(), reason, e));
        }
    }

    /** Output that cannot be written (other than retriable errors): the input record goes to the dead letters. */
    public static final class OnProduction extends Handler implements ProductionExceptionHandler {
        @Override
        public Response handleError(ErrorHandlerContext ctx, ProducerRecord<byte[], byte[]> record, Exception e) {
            if (e instanceof RetriableException) {
                return Response.retry();
            }
            return Response.resume(letter(ctx, ctx.sourceRawKey(), ctx.sourceRawValue(), PRODUCTION_ERROR, e));
        }

        @Override
        public Response handleSerializationError(ErrorHandlerContext ctx, ProducerRecord record, Exception e,
                                                 SerializationExceptionOrigin origin) {
            return Response.resume(letter(ctx, ctx.sourceRawKey(), ctx.sourceRawValue(), SERIALIZATION_ERROR, e));
        }
    }
}
