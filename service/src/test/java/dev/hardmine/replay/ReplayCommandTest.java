package dev.hardmine.replay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.cli.HardmineCommand;
import dev.hardmine.mining.JobMiner;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MinedTriplet;
import dev.hardmine.mining.MiningResult;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.mining.Strategy;
import dev.hardmine.stream.EmbeddingBatches;
import dev.hardmine.stream.InputLimits;
import dev.hardmine.testing.SyntheticLog;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ReplayCommandTest {
    @TempDir
    Path dir;

    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cmd = HardmineCommand.commandLine();
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }

    private Path writeLog(List<EmbeddingBatch> batches) throws IOException {
        Path log = dir.resolve("embeddings.jsonl");
        Files.write(log, SyntheticLog.toJsonLines(batches), StandardCharsets.UTF_8);
        return log;
    }

    private static List<JsonNode> readJsonLines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            out.add(JsonLines.MAPPER.readTree(line));
        }
        return out;
    }

    @Test
    void writesOneMinedBatchPerInputBatchEqualToMiningTheSameSequence() throws IOException {
        List<EmbeddingBatch> batches = SyntheticLog.batches(1, 6, 8, 4, 16);
        Path out = dir.resolve("mined.jsonl");
        int code = run("replay", "--input", writeLog(batches).toString(), "--output", out.toString(),
                "--strategy", "semi-hard", "--margin", "0.3", "--memory-per-identity", "0");
        assertThat(code).as(err.toString()).isZero();

        List<JsonNode> mined = readJsonLines(out);
        assertThat(mined).hasSize(batches.size());
        MiningSettings settings = MiningSettings.defaults().withStrategy(Strategy.SEMI_HARD).withMargin(0.3f);
        // The log alternates two jobs; each has its own memory.
        try (JobMiner job0 = new JobMiner(new MemoryLimits(0, 65536, 0));
             JobMiner job1 = new JobMiner(new MemoryLimits(0, 65536, 0))) {
            for (int i = 0; i < batches.size(); i++) {
                JobMiner miner = batches.get(i).getJobId().equals("job-0") ? job0 : job1;
                MiningResult expected = miner.mine(EmbeddingBatches.toSampleBatch(batches.get(i), InputLimits.defaults()),
                        settings);
                JsonNode actual = mined.get(i);
                assertThat(actual.get("batch_id").asText()).isEqualTo(batches.get(i).getBatchId());
                assertThat(actual.get("strategy").asText()).isEqualTo("semi-hard");
                assertThat(actual.get("margin").floatValue()).isEqualTo(0.3f);
                assertThat(actual.get("distance").asText()).isEqualTo("euclidean");
                assertThat(actual.get("stats").get("hard").asLong()).isEqualTo(expected.stats().hard());
                assertThat(actual.get("stats").get("semi_hard").asLong()).isEqualTo(expected.stats().semiHard());
                assertThat(actual.get("stats").get("memory_size").asLong()).isEqualTo(expected.stats().memorySize());
                List<String> triplets = new ArrayList<>();
                actual.get("triplets").forEach(t -> triplets.add(t.get("anchor_id").asText() + ","
                        + t.get("positive_id").asText() + "," + t.get("negative_id").asText() + ","
                        + t.get("d_ap").floatValue() + "," + t.get("d_an").floatValue()));
                assertThat(triplets).containsExactlyElementsOf(expected.triplets().stream()
                        .map(ReplayCommandTest::describe).toList());
            }
        }
        assertThat(mined.get(5).get("triplets")).isNotEmpty();
    }

    private static String describe(MinedTriplet t) {
        return t.anchorId() + "," + t.positiveId() + "," + t.negativeId() + "," + t.dAp() + "," + t.dAn();
    }

    @Test
    void sameInputAndSettingsGiveSameOutputExceptWallClockFields() throws IOException {
        Path log = writeLog(SyntheticLog.batches(2, 5, 8, 4, 8));
        Path first = dir.resolve("first.jsonl");
        Path second = dir.resolve("second.jsonl");
        assertThat(run("replay", "--input", log.toString(), "--output", first.toString(), "--strategy", "all")).isZero();
        assertThat(run("replay", "--input", log.toString(), "--output", second.toString(), "--strategy", "all")).isZero();
        assertThat(withoutWallClock(first)).isEqualTo(withoutWallClock(second));
        assertThat(withoutWallClock(first)).hasSize(5);
    }

    private static List<String> withoutWallClock(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        for (JsonNode n : readJsonLines(file)) {
            ((ObjectNode) n).remove("mined_at");
            ((ObjectNode) n.get("stats")).remove("mining_ms");
            out.add(JsonLines.MAPPER.writeValueAsString(n));
        }
        return out;
    }

    @Test
    void avroContainerInAndOutMinesLikeJsonLines() throws IOException {
        List<EmbeddingBatch> batches = SyntheticLog.batches(3, 4, 6, 4, 8);
        Path avroIn = dir.resolve("embeddings.avro");
        try (DataFileWriter<EmbeddingBatch> w = new DataFileWriter<>(new SpecificDatumWriter<>(EmbeddingBatch.class))) {
            w.create(EmbeddingBatch.getClassSchema(), avroIn.toFile());
            for (EmbeddingBatch b : batches) {
                w.append(b);
            }
        }
        Path avroOut = dir.resolve("mined.avro");
        Path jsonOut = dir.resolve("mined.jsonl");
        assertThat(run("replay", "--input", avroIn.toString(), "--input-format", "avro",
                "--output", avroOut.toString(), "--output-format", "avro")).as(err.toString()).isZero();
        assertThat(run("replay", "--input", writeLog(batches).toString(), "--output", jsonOut.toString())).isZero();

        List<MinedBatch> fromAvro = new ArrayList<>();
        try (DataFileReader<MinedBatch> r = new DataFileReader<>(avroOut.toFile(),
                new SpecificDatumReader<>(MinedBatch.class))) {
            r.forEach(fromAvro::add);
        }
        List<JsonNode> fromJson = readJsonLines(jsonOut);
        assertThat(fromAvro).hasSize(4);
        for (int i = 0; i < 4; i++) {
            assertThat(fromAvro.get(i).getTriplets()).hasSize(fromJson.get(i).get("triplets").size());
            assertThat(fromAvro.get(i).getStats().getLossBatchHard())
                    .isEqualTo(fromJson.get(i).get("stats").get("loss_batch_hard").asDouble());
            assertThat(fromAvro.get(i).getTriplets().get(0).getNegativeId())
                    .isEqualTo(fromJson.get(i).get("triplets").get(0).get("negative_id").asText());
        }
    }

    @Test
    void malformedJsonStopsWithTheLineAndLeavesNoOutput() throws IOException {
        List<String> lines = new ArrayList<>(SyntheticLog.toJsonLines(SyntheticLog.batches(4, 3, 4, 2, 4)));
        lines.add(2, "{\"job_id\": \"j\", ");
        Path log = dir.resolve("bad.jsonl");
        Files.write(log, lines);
        Path out = dir.resolve("mined.jsonl");

        assertThat(run("replay", "--input", log.toString(), "--output", out.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("line 3").contains("malformed JSON");
        assertThat(out).doesNotExist();
        try (Stream<Path> left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly("bad.jsonl");
        }
    }

    @Test
    void embeddingLengthOtherThanDimIsRejectedWithTheLineAndReason() throws IOException {
        assertRejected("\"embedding\": [0.5, 0.25]", "\"embedding\": [0.5]", "line 2", "embedding-length",
                "samples[0].embedding has 1 values, expected dim = 2");
    }

    @Test
    void nonFiniteValueIsRejected() throws IOException {
        assertRejected("\"embedding\": [0.5, 0.25]", "\"embedding\": [NaN, 0.25]", "line 2", "non-finite-embedding",
                "samples[0].embedding[0] is NaN");
    }

    @Test
    void missingSampleIdIsRejected() throws IOException {
        assertRejected("\"sample_id\": \"s0\", ", "", "line 2", "empty-id", "'samples[0].sample_id' is missing");
    }

    @Test
    void dimOtherThanTheJobsIsRejected() throws IOException {
        String first = "{\"job_id\":\"j\",\"batch_id\":\"b1\",\"step\":1,\"dim\":2,\"samples\":["
                + "{\"sample_id\":\"s0\",\"label\":\"a\",\"embedding\":[0.5,0.25]}]}";
        String second = "{\"job_id\":\"j\",\"batch_id\":\"b2\",\"step\":2,\"dim\":3,\"samples\":["
                + "{\"sample_id\":\"s1\",\"label\":\"a\",\"embedding\":[0.5,0.25,1]}]}";
        Path log = dir.resolve("dims.jsonl");
        Files.write(log, List.of(first, second));
        assertThat(run("replay", "--input", log.toString(), "--output", dir.resolve("o.jsonl").toString())).isEqualTo(1);
        assertThat(err.toString()).contains("line 2").contains("dim-mismatch");
    }

    private void assertRejected(String good, String bad, String position, String reason, String message)
            throws IOException {
        String valid = "{\"job_id\":\"j\",\"batch_id\":\"b1\",\"step\":1,\"dim\":2,\"samples\":["
                + "{\"sample_id\": \"s0\", \"label\":\"a\",\"embedding\": [0.5, 0.25]}]}";
        String broken = valid.replace("b1", "b2").replace(good, bad);
        assertThat(broken).isNotEqualTo(valid.replace("b1", "b2"));
        Path log = dir.resolve("bad.jsonl");
        Files.write(log, List.of(valid, broken));
        Path out = dir.resolve("mined.jsonl");
        assertThat(run("replay", "--input", log.toString(), "--output", out.toString())).isEqualTo(1);
        assertThat(err.toString()).contains(position).contains(reason).contains(message);
        assertThat(out).doesNotExist();
    }

    @Test
    void unknownStrategyIsAUsageErrorWithExitCode2() {
        assertThat(run("replay", "--input", "x.jsonl", "--strategy", "hardest")).isEqualTo(2);
        assertThat(err.toString()).contains("unknown strategy 'hardest'").contains("Usage:");
    }

    @Test
    void negativeMarginIsAUsageError() throws IOException {
        Path log = writeLog(SyntheticLog.batches(5, 1, 4, 2, 4));
        assertThat(run("replay", "--input", log.toString(), "--margin", "-1")).isEqualTo(2);
        assertThat(err.toString()).contains("mining.margin must be a finite number >= 0");
    }
}
