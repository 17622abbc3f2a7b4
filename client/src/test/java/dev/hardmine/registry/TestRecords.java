package dev.hardmine.registry;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hardmine.avro.BatchStats;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.Sample;
import dev.hardmine.avro.Triplet;
import org.apache.avro.Schema;

/** Records and schemas the registry tests share, with values worked out by hand. */
final class TestRecords {

    private TestRecords() {
    }

    /** dim float32 values, little-endian, as numpy's astype('<f4').tobytes(). */
    static ByteBuffer floats(float... values) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buffer.putFloat(v);
        }
        return buffer.flip();
    }

    static EmbeddingBatch embeddingBatch() {
        return EmbeddingBatch.newBuilder()
                .setJobId("job-1")
                .setWorkerId("worker-0")
                .setBatchId("batch-7")
                .setStep(42L)
                .setModelVersion("v3")
                .setProducedAt(Instant.ofEpochMilli(1_700_000_000_123L))
                .setDim(2)
                .setSamples(List.of(
                        Sample.newBuilder().setSampleId("s1").setLabel("cat").setEmbedding(floats(0.5f, -1.0f)).build(),
                        Sample.newBuilder().setSampleId("s2").setLabel("dog").setEmbedding(floats(0.25f, 2.0f)).build()))
                .build();
    }

    static MinedBatch minedBatch() {
        return MinedBatch.newBuilder()
                .setJobId("job-1")
                .setBatchId("batch-7")
                .setWorkerId("worker-0")
                .setStep(42L)
                .setStrategy("batch-hard")
                .setMargin(0.2f)
                .setDistance("euclidean")
                .setMinedAt(Instant.ofEpochMilli(1_700_000_000_456L))
                .setTriplets(List.of(Triplet.newBuilder()
                        .setAnchorId("s1").setPositiveId("s3").setNegativeId("s2")
                        .setAnchorLabel("cat").setNegativeLabel("dog")
                        .setDAp(0.75f).setDAn(0.5f).setPositiveStep(41L).setNegativeStep(42L)
                        .build()))
                .setStats(BatchStats.newBuilder()
                        .setAnchors(2).setValidAnchors(1).setHard(1).setSemiHard(0).setEasy(0)
                        .setLossBatchHard(0.45).setLossSemiHard(0.45).setLossWeighted(0.45)
                        .setMeanDAp(0.75).setMeanDAn(0.5).setMemorySize(3).setMemoryIdentities(2).setMiningMs(1.5)
                        .build())
                .build();
    }

    /** The schema of {@code schemas/NAME.avsc}, as a non-Java client reads and registers it. */
    static Schema avsc(String name) throws java.io.IOException {
        return new Schema.Parser().parse(java.nio.file.Files.readString(java.nio.file.Path.of("schemas", name + ".avsc")));
    }

    /** {@code schema} without the named top-level field: an older version of it, when that field has a default. */
    static Schema withoutField(Schema schema, String field) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(schema.toString());
        ArrayNode fields = (ArrayNode) root.get("fields");
        for (int i = 0; i < fields.size(); i++) {
            if (field.equals(fields.get(i).get("name").asText())) {
                fields.remove(i);
                return new Schema.Parser().parse(root.toString());
            }
        }
        throw new IllegalArgumentException("no field " + field + " in " + schema.getFullName());
    }

    /** {@code schema} with an extra string field of the given default: a newer compatible version. */
    static Schema withStringField(Schema schema, String field, String defaultValue) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(schema.toString());
        ((ArrayNode) root.get("fields")).addObject().put("name", field).put("type", "string").put("default", defaultValue);
        return new Schema.Parser().parse(root.toString());
    }
}
