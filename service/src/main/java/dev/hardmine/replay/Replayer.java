package dev.hardmine.replay;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.mining.InvalidBatchException;
import dev.hardmine.mining.JobMiner;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MiningResult;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.mining.NeighborSettings;
import dev.hardmine.mining.SampleBatch;
import dev.hardmine.stream.EmbeddingBatches;
import dev.hardmine.stream.InputLimits;
import dev.hardmine.stream.JobSettings;
import dev.hardmine.stream.MinedBatches;
import java.io.IOException;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

/**
 * Mines a recorded log offline, batch by batch in log order, with one memory per job — the same
 * conversion and mining code as the stream. The output has one MinedBatch per input batch and is
 * identical for identical input and settings, except {@code mined_at} and {@code mining_ms}.
 */
public final class Replayer implements AutoCloseable {
    private final MiningSettings settings;
    private final MemoryLimits limits;
    private final InputLimits inputLimits;
    private final long memoryMaxBytes;
    private final Clock clock;
    private final Map<String, JobMiner> miners = new HashMap<>();

    /**
     * @param memoryMaxBytes the service's {@code memory.max-bytes}: applied the same way, so that a
     *                       replay keeps exactly the memory the service kept
     */
    public Replayer(MiningSettings settings, MemoryLimits limits, InputLimits inputLimits, long memoryMaxBytes,
                    Clock clock) {
        this.settings = settings;
        this.limits = limits;
        this.inputLimits = inputLimits;
        this.memoryMaxBytes = memoryMaxBytes;
        this.clock = clock;
    }

    /**
     * Replays every batch of {@code source} into {@code sink} and commits it.
     *
     * @return the number of batches replayed
     * @throws ReplayException on the first bad batch; the sink is then not committed
     */
    public long replay(BatchSource source, MinedBatchSink sink) throws IOException {
        long count = 0;
        EmbeddingBatch batch;
        while ((batch = source.next()) != null) {
            SampleBatch samples;
            MiningResult result;
            try {
                samples = EmbeddingBatches.toSampleBatch(batch, inputLimits);
                int dim = samples.dim();
                JobMiner miner = miners.computeIfAbsent(batch.getJobId(),
                        job -> new JobMiner(new JobSettings(settings, limits, 1, NeighborSettings.OFF)
                                .boundedBy(memoryMaxBytes, dim)));
                result = miner.mine(samples, settings);
            } catch (InvalidBatchException e) {
                throw new ReplayException(source.position(), e.reason(), e.getMessage(), e);
            }
            sink.write(MinedBatches.of(batch, result, settings, clock.instant()));
            count++;
        }
        sink.commit();
        return count;
    }

    @Override
    public void close() {
        miners.values().forEach(JobMiner::close);
        miners.clear();
    }
}
