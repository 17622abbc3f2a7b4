package dev.hardmine.replay;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.json.RecordJson;
import dev.hardmine.avro.Sample;
import dev.hardmine.mining.InvalidBatchException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON-lines forms of EmbeddingBatch and MinedBatch: one record per line, the schema's field
 * names, timestamps as epoch milliseconds, {@code embedding} as an array of numbers. Records are
 * written by {@link RecordJson} on a {@link #lineGenerator}; this class parses EmbeddingBatch lines.
 */
public final class JsonLines {
    /** Accepts NaN and Infinity literals so that they are reported as non-finite values, not as syntax. */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private JsonLines() {
    }

    /** Parses one line into an EmbeddingBatch; problems raise {@link InvalidBatchException}. */
    public static EmbeddingBatch parseEmbeddingBatch(String line) throws IOException {
        JsonNode root = MAPPER.readTree(line);
        if (root == null || !root.isObject()) {
            throw new InvalidBatchException("malformed", "expected a JSON object");
        }
        int dim = requiredInt(root, "dim");
        JsonNode samplesNode = root.get("samples");
        if (samplesNode == null || !samplesNode.isArray()) {
            throw new InvalidBatchException("malformed", "field 'samples' must be an array");
        }
        List<Sample> samples = new ArrayList<>(samplesNode.size());
        for (int i = 0; i < samplesNode.size(); i++) {
            JsonNode s = samplesNode.get(i);
            String where = "samples[" + i + "]";
            if (!s.isObject()) {
                throw new InvalidBatchException("malformed", where + " must be an object");
            }
            JsonNode emb = s.get("embedding");
            if (emb == null || !emb.isArray()) {
                throw new InvalidBatchException("malformed", where + ".embedding must be an array of numbers");
            }
            if (dim > 0 && emb.size() != dim) {
                throw new InvalidBatchException(InvalidBatchException.EMBEDDING_LENGTH,
                        where + ".embedding has " + emb.size() + " values, expected dim = " + dim);
            }
            ByteBuffer bytes = ByteBuffer.allocate(4 * emb.size()).order(ByteOrder.LITTLE_ENDIAN);
            for (int k = 0; k < emb.size(); k++) {
                JsonNode v = emb.get(k);
                if (!v.isNumber()) {
                    throw new InvalidBatchException("malformed", where + ".embedding[" + k + "] is not a number");
                }
                float f = v.floatValue();
                if (!Float.isFinite(f)) {
                    throw new InvalidBatchException(InvalidBatchException.NON_FINITE,
                            where + ".embedding[" + k + "] is " + v.asText());
                }
                bytes.putFloat(f);
            }
            bytes.flip();
            samples.add(new Sample(requiredText(s, "sample_id", where), requiredText(s, "label", where), bytes));
        }
        return EmbeddingBatch.newBuilder()
                .setJobId(requiredText(root, "job_id", null))
                .setWorkerId(optionalText(root, "worker_id"))
                .setBatchId(requiredText(root, "batch_id", null))
                .setStep(requiredLong(root, "step"))
                .setModelVersion(optionalText(root, "model_version"))
                .setProducedAt(Instant.ofEpochMilli(root.has("produced_at") ? requiredLong(root, "produced_at") : 0L))
                .setDim(dim)
                .setSamples(samples)
                .build();
    }

    private static String requiredText(JsonNode node, String field, String where) {
        JsonNode v = node.get(field);
        String name = where == null ? field : where + "." + field;
        if (v == null || v.isNull()) {
            throw new InvalidBatchException(InvalidBatchException.EMPTY_ID, "field '" + name + "' is missing");
        }
        if (!v.isTextual()) {
            throw new InvalidBatchException("malformed", "field '" + name + "' must be a string");
        }
        if (v.asText().isEmpty()) {
            throw new InvalidBatchException(InvalidBatchException.EMPTY_ID, "field '" + name + "' is empty");
        }
        return v.asText();
    }

    private static String optionalText(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return "";
        }
        if (!v.isTextual()) {
            throw new InvalidBatchException("malformed", "field '" + field + "' must be a string");
        }
        return v.asText();
    }

    private static long requiredLong(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw new InvalidBatchException("malformed", "field '" + field + "' is missing");
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new InvalidBatchException("malformed", "field '" + field + "' must be an integer");
        }
        return v.longValue();
    }

    private static int requiredInt(JsonNode node, String field) {
        long v = requiredLong(node, field);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new InvalidBatchException("malformed", "field '" + field + "' is out of range");
        }
        return (int) v;
    }

    /**
     * A generator for JSON lines: records separated by the caller's line breaks only (Jackson
     * would otherwise put a space before every record but the first).
     */
    public static JsonGenerator lineGenerator(OutputStream out) throws IOException {
        JsonGenerator g = MAPPER.getFactory().createGenerator(out);
        g.setRootValueSeparator(null);
        return g;
    }
}
