package dev.hardmine.stream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.cli.HardmineCommand;
import dev.hardmine.json.RecordJson;
import dev.hardmine.replay.JsonLines;
import dev.hardmine.testing.SyntheticLog;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replay writes the hard-identity neighbours the stream publishes for the same log, to the last bit. */
class NeighborsReplayTest {
    @TempDir
    Path dir;

    @Test
    void replayWritesExactlyTheNeighboursTheStreamPublishes() throws IOException {
        List<EmbeddingBatch> batches = SyntheticLog.batches(26, 10, 6, 3, 4);
        Properties p = new Properties();
        p.setProperty("neighbors.per-identity", "3");
        p.setProperty("neighbors.half-life-steps", "2.5");
        List<String> streamed = new ArrayList<>();
        try (TopologyFixture f = new TopologyFixture(p, Files.createDirectory(dir.resolve("state")))) {
            batches.forEach(f::send);
            for (IdentityNeighbors n : f.neighborsOutput.readValuesToList()) {
                StringWriter line = new StringWriter();
                try (JsonGenerator g = JsonLines.MAPPER.getFactory().createGenerator(line)) {
                    RecordJson.write(g, n);
                }
                streamed.add(line.toString());
            }
        }

        Path log = dir.resolve("embeddings.jsonl");
        Files.write(log, SyntheticLog.toJsonLines(batches), StandardCharsets.UTF_8);
        Path neighbors = dir.resolve("neighbors.jsonl");
        // The topology fixture keeps every sample of an identity (memory.per-identity 0).
        int code = HardmineCommand.commandLine().execute("replay", "--input", log.toString(),
                "--output", dir.resolve("mined.jsonl").toString(), "--memory-per-identity", "0",
                "--neighbors-output", neighbors.toString(), "--neighbors-per-identity", "3",
                "--neighbors-half-life-steps", "2.5");
        assertThat(code).isZero();
        assertThat(Files.readAllLines(neighbors)).hasSizeGreaterThan(batches.size()).isEqualTo(streamed);
    }

    @Test
    void neighboursOutputWithoutNeighboursIsAUsageError() throws IOException {
        Path log = dir.resolve("embeddings.jsonl");
        Files.write(log, SyntheticLog.toJsonLines(SyntheticLog.batches(1, 1, 2, 2, 2)), StandardCharsets.UTF_8);
        int code = HardmineCommand.commandLine().execute("replay", "--input", log.toString(), "--output",
                dir.resolve("m.jsonl").toString(), "--neighbors-output", dir.resolve("n.jsonl").toString(),
                "--neighbors-per-identity", "0");
        assertThat(code).isEqualTo(2);
        assertThat(dir.resolve("n.jsonl")).doesNotExist();
    }
}
