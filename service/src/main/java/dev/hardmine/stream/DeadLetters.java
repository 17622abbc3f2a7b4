package dev.hardmine.stream;

import dev.hardmine.mining.InvalidBatchException;
import dev.hardmine.registry.AvroDecodeException;
import dev.hardmine.registry.BadMagicByteException;
import dev.hardmine.registry.MalformedKeyException;
import dev.hardmine.registry.TruncatedPayloadException;
import dev.hardmine.registry.UnknownSchemaIdException;
import dev.hardmine.registry.WireFormatException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bad input goes to the dead-letter topic through Kafka Streams' own exception handlers (which
 * write it in the same transaction as the rest of the task's output): the record's original key
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
            InvalidBatchException.ID_TOO_LONG, DESERIALIZATION, PROCESSING_ERROR, PRODUCTION_ERROR, SERIALIZATION_ERROR);

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
        }
        return fallback;
    }

    private static String messageOf(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof WireFormatException || t instanceof InvalidBatchException) {
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

    /** Shared configuration of the three handlers. */
    abstract static class Handler {
        String topic;
        Counter counter;

        public void configure(Map<String, ?> configs) {
            Object t = configs.get(TOPIC_CONFIG);
            if (t == null) {
                throw new IllegalStateException(TOPIC_CONFIG + " is not configured");
            }
            topic = t.toString();
            Object c = configs.get(COUNTER_CONFIG);
            counter = c instanceof Counter given ? given : new Counter();
        }

        List<ProducerRecord<byte[], byte[]>> letter(ErrorHandlerContext ctx, byte[] key, byte[] value, String reason,
                                                    Throwable e) {
            counter.increment(reason);
            LOG.warn("dead letter from {}-{}@{}: {} ({})", ctx.topic(), ctx.partition(), ctx.offset(), reason,
                    messageOf(e));
            return List.of(deadLetter(topic, ctx, key, value, reason, e));
        }
    }

    /** Records that cannot be decoded: unknown schema id, truncated bytes, wrong magic byte, bad Avro. */
    public static final class OnDeserialization extends Handler implements DeserializationExceptionHandler {
        @Override
        public Response handleError(ErrorHandlerContext ctx, ConsumerRecord<byte[], byte[]> record, Exception e) {
            return Response.resume(letter(ctx, record.key(), record.value(), reasonOf(e, DESERIALIZATION), e));
        }
    }

    /** Records that decode but violate the contract (thrown by the miner), and any other processing failure. */
    public static final class OnProcessing extends Handler implements ProcessingExceptionHandler {
        @Override
        public Response handleError(ErrorHandlerContext ctx, Record<?, ?> record, Exception e) {
            String reason = reasonOf(e, PROCESSING_ERROR);
            if (reason.equals(PROCESSING_ERROR)) {
                LOG.error("unexpected failure while processing {}-{}@{}", ctx.topic(), ctx.partition(), ctx.offset(), e);
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
