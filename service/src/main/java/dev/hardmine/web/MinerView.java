package dev.hardmine.web;

import dev.hardmine.stream.MemoryQuery;
import dev.hardmine.stream.MemorySummary;
import dev.hardmine.stream.MinerService;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.state.HostInfo;

/** What the HTTP side reads of the running miner. */
public interface MinerView {

    /** Kafka Streams is RUNNING. */
    boolean running();

    /**
     * Why the miner is not ready although it runs: what it waits for before it can mine batches it
     * has been given (the schema registry); empty when it waits for nothing.
     */
    default Optional<String> waitingFor() {
        return Optional.empty();
    }

    /**
     * This instance's part of the job's memory, or null when it holds none.
     *
     * @throws org.apache.kafka.streams.errors.InvalidStateStoreException while not queryable
     */
    MemorySummary localMemory(String jobId);

    /**
     * This instance's part of the job's memory with the partitions it was read from; by default
     * {@link #localMemory} with the partitions unknown.
     *
     * @throws org.apache.kafka.streams.errors.InvalidStateStoreException while not queryable at all
     */
    default MemoryQuery.LocalPart localPart(String jobId) {
        return new MemoryQuery.LocalPart(localMemory(jobId), null);
    }

    /** Partitions a job's memory may live in (the answers must read them all), 0 when not known. */
    default int memoryPartitions() {
        return 0;
    }

    /** The other instances' HTTP addresses, {@code host:port}, to ask for the rest of a memory. */
    List<String> otherInstances();

    /** Dead letters written so far by this instance, by reason. */
    Map<String, Long> deadLetters();

    /** Records the application is behind on the embeddings topic, when known. */
    OptionalLong consumerLag();

    /** A miner that is not there yet: not running, no memory, nothing counted. */
    MinerView STARTING = new MinerView() {
        @Override
        public boolean running() {
            return false;
        }

        @Override
        public MemorySummary localMemory(String jobId) {
            throw new org.apache.kafka.streams.errors.InvalidStateStoreException("the miner is starting");
        }

        @Override
        public List<String> otherInstances() {
            return List.of();
        }

        @Override
        public Map<String, Long> deadLetters() {
            return Map.of();
        }

        @Override
        public OptionalLong consumerLag() {
            return OptionalLong.empty();
        }
    };

    /**
     * The view of a {@link MinerService}.
     *
     * @param self the instance's {@code application.server}, or null without one
     * @param lag  the consumer lag, when something measures it
     */
    static MinerView of(MinerService miner, HostInfo self, Supplier<OptionalLong> lag) {
        MemoryQuery memory = new MemoryQuery(miner.streams(), self, miner.config().topicPartitions());
        return new MinerView() {
            @Override
            public boolean running() {
                return miner.streams().state() == KafkaStreams.State.RUNNING;
            }

            @Override
            public Optional<String> waitingFor() {
                return miner.waitingFor();
            }

            @Override
            public MemorySummary localMemory(String jobId) {
                return memory.local(jobId);
            }

            @Override
            public MemoryQuery.LocalPart localPart(String jobId) {
                return memory.localPart(jobId);
            }

            @Override
            public int memoryPartitions() {
                return memory.partitions();
            }

            @Override
            public List<String> otherInstances() {
                return memory.otherInstances().stream().map(h -> h.host() + ":" + h.port()).toList();
            }

            @Override
            public Map<String, Long> deadLetters() {
                return miner.deadLetters().snapshot();
            }

            @Override
            public OptionalLong consumerLag() {
                return lag.get();
            }
        };
    }
}
