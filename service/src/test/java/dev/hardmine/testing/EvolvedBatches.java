package dev.hardmine.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hardmine.avro.EmbeddingBatch;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * EmbeddingBatch as a trainer on a newer schema writes it: the schema with one more field at the
 * end, {@value #EXTRA_FIELD} (an optional string, default null), compatible backward with the
 * one hardmine reads with — a writer schema the service has never seen until such a batch comes.
 */
public final class EvolvedBatches {
    public static final String EXTRA_FIELD = "trainer_note";

    private EvolvedBatches() {
    }

    /** EmbeddingBatch's schema with {@value #EXTRA_FIELD} added at the end. */
    public static Schema schema() {
        try {
            ObjectMapper json = new ObjectMapper();
            ObjectNode schema = (ObjectNode) json.readTree(EmbeddingBatch.getClassSchema().toString());
            ObjectNode extra = schema.withArray("fields").addObject();
            extra.put("name", EXTRA_FIELD);
            extra.putArray("type").add("null").add("string");
            extra.putNull("default");
            return new Schema.Parser().parse(schema.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code batch} in the wire format under {@code schemaId} of {@link #schema()}, the extra field
     * null: the body of the original schema followed by the union index 0 (null) of the last field.
     */
    public static byte[] payload(int schemaId, EmbeddingBatch batch) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(0);
            out.write(ByteBuffer.allocate(4).putInt(schemaId).array());
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
            new SpecificDatumWriter<EmbeddingBatch>(EmbeddingBatch.getClassSchema()).write(batch, encoder);
            encoder.writeIndex(0);
            encoder.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
