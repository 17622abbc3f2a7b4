package dev.hardmine.json;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.hardmine.avro.BatchStats;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.MemorySample;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.Neighbor;
import dev.hardmine.avro.Sample;
import dev.hardmine.avro.Triplet;
import dev.hardmine.mining.Embeddings;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The field-by-field JSON-lines writers replay had before {@link RecordJson}, kept as they were
 * to prove that the new writer writes the same bytes.
 */
final class FormerJsonLines {
    private FormerJsonLines() {
    }

    /** Writes one EmbeddingBatch as a JSON object (no line break). */
    static void writeEmbeddingBatch(JsonGenerator g, EmbeddingBatch b) throws IOException {
        g.writeStartObject();
        g.writeStringField("job_id", b.getJobId());
        g.writeStringField("worker_id", b.getWorkerId());
        g.writeStringField("batch_id", b.getBatchId());
        g.writeNumberField("step", b.getStep());
        g.writeStringField("model_version", b.getModelVersion());
        g.writeNumberField("produced_at", b.getProducedAt().toEpochMilli());
        g.writeNumberField("dim", b.getDim());
        g.writeArrayFieldStart("samples");
        for (Sample s : b.getSamples()) {
            g.writeStartObject();
            g.writeStringField("sample_id", s.getSampleId());
            g.writeStringField("label", s.getLabel());
            writeEmbedding(g, s.getEmbedding());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    /** Writes one MinedBatch as a JSON object (no line break). */
    static void writeMinedBatch(JsonGenerator g, MinedBatch m) throws IOException {
        g.writeStartObject();
        g.writeStringField("job_id", m.getJobId());
        g.writeStringField("batch_id", m.getBatchId());
        g.writeStringField("worker_id", m.getWorkerId());
        g.writeNumberField("step", m.getStep());
        g.writeStringField("strategy", m.getStrategy());
        g.writeNumberField("margin", m.getMargin());
        g.writeStringField("distance", m.getDistance());
        g.writeNumberField("mined_at", m.getMinedAt().toEpochMilli());
        g.writeArrayFieldStart("triplets");
        for (Triplet t : m.getTriplets()) {
            g.writeStartObject();
            g.writeStringField("anchor_id", t.getAnchorId());
            g.writeStringField("positive_id", t.getPositiveId());
            g.writeStringField("negative_id", t.getNegativeId());
            g.writeStringField("anchor_label", t.getAnchorLabel());
            g.writeStringField("negative_label", t.getNegativeLabel());
            g.writeNumberField("d_ap", t.getDAp());
            g.writeNumberField("d_an", t.getDAn());
            g.writeNumberField("positive_step", t.getPositiveStep());
            g.writeNumberField("negative_step", t.getNegativeStep());
            g.writeEndObject();
        }
        g.writeEndArray();
        BatchStats s = m.getStats();
        g.writeObjectFieldStart("stats");
        g.writeNumberField("anchors", s.getAnchors());
        g.writeNumberField("valid_anchors", s.getValidAnchors());
        g.writeNumberField("hard", s.getHard());
        g.writeNumberField("semi_hard", s.getSemiHard());
        g.writeNumberField("easy", s.getEasy());
        g.writeNumberField("loss_batch_hard", s.getLossBatchHard());
        g.writeNumberField("loss_semi_hard", s.getLossSemiHard());
        g.writeNumberField("loss_weighted", s.getLossWeighted());
        g.writeNumberField("mean_d_ap", s.getMeanDAp());
        g.writeNumberField("mean_d_an", s.getMeanDAn());
        g.writeNumberField("memory_size", s.getMemorySize());
        g.writeNumberField("memory_identities", s.getMemoryIdentities());
        g.writeNumberField("mining_ms", s.getMiningMs());
        g.writeEndObject();
        g.writeNumberField("produced_at", m.getProducedAt().toEpochMilli());
        g.writeArrayFieldStart("memory_samples");
        for (MemorySample ms : m.getMemorySamples()) {
            g.writeStartObject();
            g.writeStringField("sample_id", ms.getSampleId());
            g.writeStringField("label", ms.getLabel());
            g.writeNumberField("step", ms.getStep());
            writeEmbedding(g, ms.getEmbedding());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    /** Writes one IdentityNeighbors as a JSON object (no line break). */
    static void writeIdentityNeighbors(JsonGenerator g, IdentityNeighbors n) throws IOException {
        g.writeStartObject();
        g.writeStringField("job_id", n.getJobId());
        g.writeStringField("label", n.getLabel());
        g.writeNumberField("step", n.getStep());
        g.writeArrayFieldStart("neighbors");
        for (Neighbor x : n.getNeighbors()) {
            g.writeStartObject();
            g.writeStringField("label", x.getLabel());
            g.writeNumberField("score", x.getScore());
            g.writeNumberField("count", x.getCount());
            g.writeNumberField("last_step", x.getLastStep());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    /** {@code "embedding": [...]} from little-endian float32 bytes. */
    private static void writeEmbedding(JsonGenerator g, ByteBuffer littleEndian) throws IOException {
        int n = littleEndian.remaining() / 4;
        float[] values = new float[n];
        Embeddings.decodeLittleEndian(littleEndian, values, 0, n);
        g.writeArrayFieldStart("embedding");
        for (float v : values) {
            g.writeNumber(v);
        }
        g.writeEndArray();
    }
}
