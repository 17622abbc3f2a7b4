package dev.hardmine.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.testing.ExactlyOnce;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.SharedKafkaBroker;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Local state that RocksDB cannot open — a store half-written when the process was killed, a disk
 * that lost a file — is a cache of the changelogs: the service wipes it and restores the memory
 * from them instead of refusing to start, and mines on exactly as if nothing had happened.
 */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(120)
class CorruptLocalStateIntegrationTest {
    private static final MemoryLimits MEMORY = new MemoryLimits(4, 256, 0);
    private static final long MEMORY_MAX_BYTES = 64L << 20;

    @Test
    void aStoreThatCannotBeOpenedIsRebuiltFromItsChangelog(LiveMining live) throws IOException {
        List<EmbeddingBatch> log = ExactlyOnce.batchesOfJobs(5, 12, 2);
        Path stateDir = live.newStateDir();
        Properties properties = live.properties("kafka.state.dir", stateDir.toString(),
                "memory.per-identity", Integer.toString(MEMORY.perIdentity()),
                "memory.max-embeddings", Integer.toString(MEMORY.maxEmbeddings()),
                "memory.max-bytes", Long.toString(MEMORY_MAX_BYTES));
        MinerService first = live.start(properties);
        log.subList(0, 6).forEach(live::send);
        live.awaitMined(6);
        first.close();

        List<Path> currents;
        try (Stream<Path> files = Files.walk(stateDir)) {
            currents = files.filter(p -> p.getFileName().toString().equals("CURRENT")
                    && p.getParent().getFileName().toString().equals(MemoryStore.NAME)).toList();
        }
        assertThat(currents).as("the memory store's RocksDB directories").isNotEmpty();
        for (Path current : currents) {
            Files.writeString(current, "MANIFEST-999999\n", StandardCharsets.US_ASCII); // a manifest that is not there
        }

        live.start(properties);
        log.subList(6, log.size()).forEach(live::send);
        Map<String, List<MinedBatch>> mined = new HashMap<>();
        for (ConsumerRecord<String, MinedBatch> r : live.awaitMined(log.size())) {
            mined.computeIfAbsent(ExactlyOnce.key(r.value()), k -> new ArrayList<>()).add(r.value());
        }
        ExactlyOnce.assertMinedOnceAsReplayed(mined, log, MEMORY, MEMORY_MAX_BYTES);
    }
}
