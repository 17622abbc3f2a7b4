package dev.hardmine.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.hardmine.avro.BatchStats;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.MemorySample;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.Neighbor;
import dev.hardmine.avro.Sample;
import dev.hardmine.avro.Triplet;
import dev.hardmine.mining.Embeddings;
import dev.hardmine.replay.JsonLines;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.IndexedRecord;
import org.junit.jupiter.api.Test;

/**
 * The schema-driven writer against the JSON lines replay wrote field by field before it: the same
 * bytes for every record replay writes, with every field set, and fields a schema gains appear
 * without code.
 */
class RecordJsonTest {

    /** Float32 values whose shortest decimal forms differ from their doubles' (0.1f is 0.10000000149… as a double). */
    private static ByteBuffer embedding(float... values) {
        return Embeddings.encodeLittleEndian(values, 0, values.length);
    }

    static MinedBatch minedBatch() {
        return MinedBatch.newBuilder()
                .setJobId("job \"a\"/1").setBatchId("b-7").setWorkerId("rank-0").setStep(1234567890123L)
                .setStrategy("semi-hard").setMargin(0.1f).setDistance("cosine")
                .setMinedAt(Instant.ofEpochMilli(1_700_000_000_123L))
                .setTriplets(List.of(
                        new Triplet("s1", "s2", "s3", "cat", "dog", 0.3f, 1e-8f, 5L, 6L),
                        new Triplet("s4", "s5", "s6", "é", "日本", -0.0f, 3.4028235e38f, -1L, Long.MAX_VALUE)))
                .setStats(BatchStats.newBuilder().setAnchors(64).setValidAnchors(60).setHard(3).setSemiHard(5)
                        .setEasy(90).setLossBatchHard(0.1).setLossSemiHard(1.0 / 3).setLossWeighted(1e-300)
                        .setMeanDAp(0.9).setMeanDAn(Double.NaN).setMemorySize(1000).setMemoryIdentities(40)
                        .setMiningMs(12.5).build())
                .setProducedAt(Instant.ofEpochMilli(1_700_000_000_000L))
                .setMemorySamples(List.of(
                        new MemorySample("m1", "cat", 4L, embedding(0.1f, -2.5f, 1e-45f)),
                        new MemorySample("m2", "dog", 5L, embedding(Float.MIN_NORMAL, 7f, 0.33333334f))))
                .build();
    }

    static IdentityNeighbors identityNeighbors() {
        return new IdentityNeighbors("job", "cat", 42L,
                List.of(new Neighbor("dog", 1.75, 3L, 40L), new Neighbor("fox", 0.1 + 0.2, 1L, 12L)));
    }

    private static EmbeddingBatch embeddingBatch() {
        return EmbeddingBatch.newBuilder().setJobId("job").setWorkerId("w").setBatchId("b").setStep(3)
                .setModelVersion("v1").setProducedAt(Instant.ofEpochMilli(99)).setDim(2)
                .setSamples(List.of(new Sample("s1", "cat", embedding(0.1f, 0.2f)),
                        new Sample("s2", "dog", embedding(-1f, 1e10f))))
                .build();
    }

    private interface Writer {
        void write(JsonGenerator g) throws IOException;
    }

    /** Two records on one generator of replay's, as replay writes its lines. */
    private static String lines(Writer writer) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JsonLines.lineGenerator(out)) {
            writer.write(g);
            g.writeRaw('\n');
            writer.write(g);
            g.writeRaw('\n');
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aMinedBatchWithEveryFieldSetIsWrittenAsTheFieldByFieldWriterWroteIt() throws IOException {
        MinedBatch m = minedBatch();

        String written = lines(g -> RecordJson.write(g, m));

        assertThat(written).isEqualTo(lines(g -> FormerJsonLines.writeMinedBatch(g, m)));
        assertThat(written).startsWith("{\"job_id\":\"job \\\"a\\\"/1\",\"batch_id\":\"b-7\"")
                .contains("\"margin\":0.1,", "\"d_an\":1.0E-8,", "\"mean_d_an\":\"NaN\"",
                        "\"embedding\":[0.1,-2.5,1.4E-45]", "\"mined_at\":1700000000123,");
    }

    @Test
    void anEmbeddingBatchAndIdentityNeighborsAreWrittenAsTheFieldByFieldWriterWroteThem() throws IOException {
        EmbeddingBatch b = embeddingBatch();
        IdentityNeighbors n = identityNeighbors();

        assertThat(lines(g -> RecordJson.write(g, b))).isEqualTo(lines(g -> FormerJsonLines.writeEmbeddingBatch(g, b)));
        assertThat(lines(g -> RecordJson.write(g, n))).isEqualTo(lines(g -> FormerJsonLines.writeIdentityNeighbors(g, n)))
                .startsWith("{\"job_id\":\"job\",\"label\":\"cat\",\"step\":42,\"neighbors\":[{\"label\":\"dog\","
                        + "\"score\":1.75,\"count\":3,\"last_step\":40},{\"label\":\"fox\",\"score\":0.30000000000000004,");
    }

    @Test
    void inAJacksonTreeARecordWritesTheSameBytesAsOnAGenerator() throws IOException {
        MinedBatch m = minedBatch();
        ObjectMapper mapper = new ObjectMapper();
        ArrayNode tree = mapper.createArrayNode();
        tree.addPOJO(RecordJson.of(m));
        tree.addObject().putPOJO("latest", RecordJson.of(m));

        String single = lines(g -> RecordJson.write(g, m)).split("\n")[0];

        assertThat(mapper.writeValueAsString(RecordJson.of(m))).isEqualTo(single);
        assertThat(mapper.writeValueAsString(tree)).isEqualTo("[" + single + ",{\"latest\":" + single + "}]");
    }

    @Test
    void fieldsLeftOutAreTheTopLevelOnesNamed() throws IOException {
        String json = new ObjectMapper().writeValueAsString(RecordJson.without(identityNeighbors(), "job_id", "step"));

        assertThat(json).isEqualTo("{\"label\":\"cat\",\"neighbors\":[{\"label\":\"dog\",\"score\":1.75,\"count\":3,"
                + "\"last_step\":40},{\"label\":\"fox\",\"score\":0.30000000000000004,\"count\":1,\"last_step\":12}]}");
    }

    @Test
    void aFieldAddedToTheMinedBatchSchemaIsWrittenWithoutAChangeOfCode() throws IOException {
        MinedBatch m = minedBatch();
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : MinedBatch.getClassSchema().getFields()) {
            fields.add(new Schema.Field(f, f.schema()));
        }
        Schema nullableDouble = Schema.createUnion(Schema.create(Schema.Type.NULL), Schema.create(Schema.Type.DOUBLE));
        fields.add(new Schema.Field("loss_scale", nullableDouble));
        fields.add(new Schema.Field("hint", nullableDouble));
        fields.add(new Schema.Field("tags", Schema.createMap(Schema.create(Schema.Type.INT))));
        fields.add(new Schema.Field("exact", Schema.create(Schema.Type.BOOLEAN)));
        Schema extended = Schema.createRecord("MinedBatch", null, "dev.hardmine.avro", false, fields);
        GenericRecord r = new GenericData.Record(extended);
        for (Schema.Field f : MinedBatch.getClassSchema().getFields()) {
            r.put(f.name(), m.get(f.pos()));
        }
        r.put("loss_scale", 2.5);
        r.put("hint", null);
        r.put("tags", Map.of("ab", 1));
        r.put("exact", true);

        String former = lines(g -> FormerJsonLines.writeMinedBatch(g, m)).split("\n")[0];
        String written = lines(g -> RecordJson.write(g, r)).split("\n")[0];

        assertThat(written).isEqualTo(former.substring(0, former.length() - 1)
                + ",\"loss_scale\":2.5,\"hint\":null,\"tags\":{\"ab\":1},\"exact\":true}");
    }

    @Test
    void aGenericRecordsStringsMayBeAvroUtf8() throws IOException {
        GenericRecord r = new GenericData.Record(IdentityNeighbors.getClassSchema());
        r.put("job_id", new org.apache.avro.util.Utf8("job"));
        r.put("label", "cat");
        r.put("step", 42L);
        r.put("neighbors", List.<IndexedRecord>of());

        assertThat(new ObjectMapper().writeValueAsString(RecordJson.of(r)))
                .isEqualTo("{\"job_id\":\"job\",\"label\":\"cat\",\"step\":42,\"neighbors\":[]}");
    }

    @Test
    void anInstantIsWrittenInTheUnitOfItsLogicalType() throws IOException {
        Schema millis = org.apache.avro.LogicalTypes.timestampMillis().addToSchema(Schema.create(Schema.Type.LONG));
        Schema micros = org.apache.avro.LogicalTypes.timestampMicros().addToSchema(Schema.create(Schema.Type.LONG));
        Schema schema = Schema.createRecord("Times", null, "test", false,
                List.of(new Schema.Field("at_ms", millis), new Schema.Field("at_us", micros)));
        GenericRecord r = new GenericData.Record(schema);
        Instant t = Instant.ofEpochSecond(1_700_000_000L, 123_456_000L);
        r.put("at_ms", t);
        r.put("at_us", t);

        assertThat(new ObjectMapper().writeValueAsString(RecordJson.of(r)))
                .isEqualTo("{\"at_ms\":1700000000123,\"at_us\":1700000000123456}");
    }
}
