package dev.hardmine.stream;

import dev.hardmine.registry.SchemaFetcher;
import dev.hardmine.registry.SchemaRegistryException;
import java.time.Duration;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.internals.GlobalStreamThread;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jobs table's deserializer: a JobConfig whose writer schema the schema registry has not given
 * yet waits for it, for as long as the registry does not answer, and is then read; the JobConfigs
 * after it wait behind it, in their order. A registry outage delays a job's new settings (the job is
 * mined with the ones it had meanwhile); it never loses them.
 *
 * <p>Why a wait here, when the embeddings source never waits ({@link HeldBatches}): the global
 * thread that reads the jobs topic reads nothing else, so its wait stops no partition's mining,
 * and it belongs to no consumer group, so no poll interval throws it out. Why not let a failed
 * record go to the deserialization handler: the global thread would move past it and the job's
 * settings would be lost until the topic is read again from its start (a new state directory).
 *
 * <p>It serves the restore of the jobs table at start as well ({@link JobConfigTable}): a JobConfig
 * published while the service was stopped waits there the same way, and the start with it.
 *
 * <p>When Kafka Streams stops the global thread while a record waits, the record is left unread:
 * {@link Stopped} goes to the deserialization handler, which fails the thread instead of skipping
 * the record ({@link DeadLetters.OnDeserialization}), so the thread's checkpoint stays before it and
 * the next start reads it again. Used on the global thread only: another thread has no such stop.
 */
final class AwaitingSchema<T> implements Deserializer<T> {
    private static final Logger LOG = LoggerFactory.getLogger(AwaitingSchema.class);
    /** How often a waiting record asks the fetcher again (whose fetch retries with its own backoff). */
    static final Duration ASK_EVERY = Duration.ofMillis(100);

    /** The global thread was told to stop while a record waited for the registry: the record stays unread. */
    static final class Stopped extends RuntimeException {
        Stopped(String message) {
            super(message);
        }
    }

    private final Deserializer<T> inner;
    private final SchemaFetcher schemas;

    /**
     * @param inner   decodes a record whose writer schema is at hand
     * @param schemas tells whether it is, and fetches it in the background while it is not
     */
    AwaitingSchema(Deserializer<T> inner, SchemaFetcher schemas) {
        this.inner = inner;
        this.schemas = schemas;
    }

    @Override
    public T deserialize(String topic, byte[] payload) {
        return deserialize(topic, new RecordHeaders(), payload);
    }

    @Override
    public T deserialize(String topic, Headers headers, byte[] payload) {
        if (payload == null) {
            return null;
        }
        long waitingSince = 0;
        while (true) {
            if (schemas.isReady(payload)) {
                try {
                    T value = inner.deserialize(topic, headers, payload);
                    if (waitingSince != 0) {
                        LOG.info("a record of {} waited {} ms for the schema registry and is read", topic,
                                (System.nanoTime() - waitingSince) / 1_000_000);
                    }
                    return value;
                } catch (SchemaRegistryException e) {
                    // The registry failed between the fetch and this request (its "no such schema" is an
                    // UnknownSchemaIdException, which goes on to the handler): wait for it like before.
                }
            }
            if (waitingSince == 0) {
                waitingSince = System.nanoTime();
                LOG.warn("a record of {} waits, with the records after it: {}", topic,
                        schemas.waitingFor().orElse("waiting for the schema registry"));
            }
            if (stopping()) {
                throw new Stopped("stopped while a record of " + topic + " waited for the schema registry; "
                        + "it is read again at the next start");
            }
            try {
                Thread.sleep(ASK_EVERY.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Stopped("interrupted while a record of " + topic + " waited for the schema registry");
            }
        }
    }

    /**
     * The global thread is told to stop (it waits while it restores, state CREATED, and while it
     * runs), or the fetcher is closed: the service stops while it starts, and Kafka Streams, whose
     * start waits for the global thread's restore, cannot tell the thread before the start returns.
     */
    private boolean stopping() {
        if (schemas.isClosed()) {
            return true;
        }
        if (Thread.currentThread() instanceof GlobalStreamThread global) {
            GlobalStreamThread.State state = global.state();
            return state != GlobalStreamThread.State.CREATED && state != GlobalStreamThread.State.RUNNING;
        }
        return false;
    }
}
