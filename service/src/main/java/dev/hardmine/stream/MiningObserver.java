package dev.hardmine.stream;

import dev.hardmine.avro.MinedBatch;

/**
 * What the running topology tells whoever watches it (metrics): each batch mined, each memory a
 * processor lets go of, each dead letter. Calls come from Kafka Streams' threads, several at once;
 * an implementation must be thread-safe and quick, and must not throw.
 *
 * <p>Under exactly-once a batch whose transaction aborts is mined again after the restart, so it
 * may be observed twice; observers count what was processed, not what was committed.
 */
public interface MiningObserver {
    /** Observes nothing: the default of the topology and the service. */
    MiningObserver NONE = new MiningObserver() {
    };

    /**
     * A batch was mined and forwarded.
     *
     * @param memoryKey   the memory it was mined against: its job_id, or {@code job_id#shard} with
     *                    identity sharding
     * @param memoryBytes what that memory's entries are charged against {@code memory.max-bytes}
     *                    after the batch ({@link dev.hardmine.mining.MemoryBank#bytes()})
     */
    default void batchMined(String memoryKey, MinedBatch mined, long memoryBytes) {
    }

    /** The processor holding {@code memoryKey} closed (its task was closed, moved or revoked). */
    default void memoryReleased(String memoryKey, String jobId) {
    }

    /** A record went to the dead letters; {@code reason} is the {@link DeadLetters#REASON} header. */
    default void deadLetter(String reason) {
    }
}
