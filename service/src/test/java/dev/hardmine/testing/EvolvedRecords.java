package dev.hardmine.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Records as a client on a newer schema writes them (an EmbeddingBatch from a trainer, a JobConfig
 * from a job's launcher): the record's schema with one more field at the end, {@value #EXTRA_FIELD}
 * (an optional string, default null), compatible backward with the one hardmine reads with — a
 * writer schema the service has never seen until such a record comes.
 */
public final class EvolvedRecords {
    public static final String EXTRA_FIELD = "trainer_note";

    private EvolvedRecords() {
    }

    /** {@code schema} with {@value #EXTRA_FIELD} added at the end. */
    public static Schema schema(Schema schema) {
        try {
            ObjectMapper json = new ObjectMapper();
            ObjectNode evolved = (ObjectNode) json.readTree(schema.toString());
            ObjectNode extra = evolved.withArray("fields").addObject();
            extra.put("name", EXTRA_FIELD);
            extra.putArray("type").add("null").add("string");
            extra.putNull("default");
            return new Schema.Parser().parse(evolved.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code record} in the wire format under {@code schemaId} of {@link #schema} of its schema, the
     * extra field null: the body of the original schema followed by the union index 0 (null) of the
     * last field.
     */
    public static byte[] payload(int schemaId, SpecificRecord record) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(0);
            out.write(ByteBuffer.allocate(4).putInt(schemaId).array());
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
            new SpecificDatumWriter<SpecificRecord>(record.getSchema()).write(record, encoder);
            encoder.writeIndex(0);
            encoder.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
