package dev.hardmine.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.JobConfig;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.avro.Sample;
import dev.hardmine.mining.Embeddings;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.testing.BadRecords;
import dev.hardmine.testing.ExactlyOnce;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.BiFunction;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input, generated: a seeded stream of valid batches of two jobs with malformed records of
 * {@link Bad every class below} dealt among them at random. Every malformed record becomes exactly
 * one dead letter with its class's reason (or is mined, where the contract accepts it), the service
 * never stops, and the two jobs' valid batches are mined exactly as a replay of those batches
 * alone mines them: nothing malformed leaves a trace in their memory.
 *
 * <p>{@code -Dfuzz.records=N -Dfuzz.seed=S} for a longer or another run.
 */
class BadInputFuzzTest {
    private static final int RECORDS = Integer.getInteger("fuzz.records", 400);
    private static final long SEED = Long.getLong("fuzz.seed", 17);
    private static final int DIM = 16;
    private static final List<String> JOBS = List.of("job-a", "job-b");
    /** Accepted oddities go to a job of their own, so that the two jobs' memories stay comparable. */
    private static final String ODD_JOB = "odd-job";
    private static final List<String> DESERIALIZATION_REASONS = List.of("truncated", "bad-magic-byte",
            "unknown-schema-id", "avro-decode");
    private static final MemoryLimits MEMORY = new MemoryLimits(4, 256, 0);
    private static final long MEMORY_MAX_BYTES = 64L << 20;

    @TempDir
    Path dir;

    /** What becomes of a record: mined ({@code reason} null), or a dead letter with {@code reason}. */
    private record Outcome(String reason) {
        static final Outcome MINED = new Outcome(null);
    }

    /** The classes of malformed records, each with what the contract says becomes of it. */
    private enum Bad {
        NAN_IN_EMBEDDING("non-finite-embedding"),
        INFINITY_IN_EMBEDDING("non-finite-embedding"),
        DIM_CHANGES_WITHIN_JOB("dim-mismatch"),
        DIM_ZERO("bad-dim"),
        DIM_NEGATIVE("bad-dim"),
        DIM_TOO_LARGE("dim-too-large"),
        EMBEDDING_TOO_SHORT("embedding-length"),
        EMBEDDING_NOT_FLOATS("embedding-length"),
        DUPLICATE_SAMPLE_ID("duplicate-sample-id"),
        EMPTY_SAMPLE_ID("empty-id"),
        EMPTY_JOB_ID("empty-id"),
        EMPTY_BATCH_ID("empty-id"),
        TOO_MANY_SAMPLES("batch-too-large"),
        NULL_VALUE("malformed"),
        TRUNCATED_AVRO("truncated"),
        BAD_MAGIC_BYTE("bad-magic-byte"),
        UNKNOWN_SCHEMA_ID("unknown-schema-id"),
        GARBAGE_AFTER_HEADER("avro-decode"),
        WRITER_SCHEMA_WITHOUT_A_REQUIRED_FIELD("avro-decode"),
        WRITER_SCHEMA_WITH_AN_EXTRA_FIELD(null),
        LABEL_OF_ONE_MEGABYTE("id-too-long"),
        SAMPLE_ID_OF_ONE_MEGABYTE("id-too-long"),
        LABEL_AT_THE_LENGTH_LIMIT(null),
        NEGATIVE_STEP(null),
        STEP_GOING_BACKWARDS(null),
        EMPTY_BATCH(null),
        NULL_KEY("key-mismatch"),
        KEY_OTHER_THAN_JOB_ID("key-mismatch"),
        BATCH_OF_TEN_MEGABYTES(null);

        final String reason;

        Bad(String reason) {
            this.reason = reason;
        }
    }

    @Test
    void everyMalformedRecordIsOneDeadLetterWithItsReasonAndTheValidOnesAreMinedAsIfItWereNotThere() throws Exception {
        Properties p = new Properties();
        p.setProperty("memory.per-identity", Integer.toString(MEMORY.perIdentity()));
        p.setProperty("memory.max-embeddings", Integer.toString(MEMORY.maxEmbeddings()));
        p.setProperty("memory.max-bytes", Long.toString(MEMORY_MAX_BYTES));
        Random random = new Random(SEED);
        List<EmbeddingBatch> valid = ExactlyOnce.batchesOfJobs(SEED, RECORDS / 2, JOBS.size()).stream()
                .map(b -> EmbeddingBatch.newBuilder(b).setJobId(JOBS.get(Integer.parseInt(b.getJobId().substring(4))))
                        .build())
                .toList();
        List<Outcome> expected = new ArrayList<>();
        Map<Bad, Integer> tried = new EnumMap<>(Bad.class);
        try (TopologyFixture f = new TopologyFixture(p, dir)) {
            Generator generator = new Generator(f, random);
            // Job configurations too: one invalid (a dead letter; the defaults apply), one of a job that
            // never publishes, and a tombstone; none of them stops anything.
            f.jobConfigs.pipeInput(JOBS.get(0), JobConfig.newBuilder().setJobId(JOBS.get(0)).setMargin(-1f).build());
            f.jobConfigs.pipeInput("no-such-job", JobConfig.newBuilder().setJobId("no-such-job").build());
            f.jobConfigs.pipeInput(JOBS.get(0), null);
            int next = 0;
            for (int i = 0; i < RECORDS; i++) {
                // Each job's first batch is valid: it sets the job's dim, which a malformed batch must not.
                boolean malformed = next >= JOBS.size() && (random.nextInt(2) == 0 || next >= valid.size());
                if (!malformed) {
                    f.send(valid.get(next++));
                    expected.add(Outcome.MINED);
                    continue;
                }
                // Every class at least once, then at random.
                Bad bad = tried.size() < Bad.values().length ? Bad.values()[tried.size()]
                        : Bad.values()[random.nextInt(Bad.values().length)];
                tried.merge(bad, 1, Integer::sum);
                generator.send(bad, valid.get(next - 1 - random.nextInt(JOBS.size()))); // from a job already seen
                expected.add(new Outcome(bad.reason));
            }

            Map<String, Long> expectedByReason = new TreeMap<>();
            expected.stream().filter(o -> o.reason() != null).forEach(o -> expectedByReason.merge(o.reason(), 1L, Long::sum));
            expectedByReason.put(InvalidJobConfigException.INVALID, 1L);
            Map<String, Long> counted = new TreeMap<>(f.deadLetters.snapshot());
            counted.values().removeIf(n -> n == 0);
            assertThat(counted).as("dead letters by reason").isEqualTo(expectedByReason);
            // The records that decode are in the dead-letter topic with their reasons; the test driver
            // leaves out what the deserialization handler and the jobs table's global thread write
            // (the broker tests see those).
            Map<String, Long> inTopic = new TreeMap<>();
            f.dlq.readRecordsToList().forEach(r -> inTopic.merge(header(r, DeadLetters.REASON), 1L, Long::sum));
            Map<String, Long> decoded = new TreeMap<>(expectedByReason);
            DESERIALIZATION_REASONS.forEach(decoded::remove);
            decoded.remove(InvalidJobConfigException.INVALID);
            assertThat(inTopic).as("dead-letter records by reason").isEqualTo(decoded);

            Map<String, List<MinedBatch>> mined = new HashMap<>();
            int oddMined = 0;
            for (TestRecord<String, MinedBatch> r : f.output.readRecordsToList()) {
                if (JOBS.contains(r.value().getJobId())) {
                    mined.computeIfAbsent(ExactlyOnce.key(r.value()), k -> new ArrayList<>()).add(r.value());
                } else {
                    assertThat(r.value().getJobId()).startsWith(ODD_JOB);
                    oddMined++;
                }
            }
            long accepted = expected.stream().filter(o -> o.reason() == null).count() - next;
            assertThat(oddMined).as("accepted oddities mined").isEqualTo(accepted);
            ExactlyOnce.assertMinedOnceAsReplayed(mined, valid.subList(0, next), MEMORY, MEMORY_MAX_BYTES);
            assertThat(tried).as("classes tried").hasSize(Bad.values().length);
            System.out.printf("fuzz: %d records, %d valid batches mined, %d malformed of %d classes: %s%n",
                    RECORDS, next, RECORDS - next, tried.size(), tried);
        }
    }

    private static String header(TestRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** Writes each class of malformed record from a valid batch of the stream. */
    private static final class Generator {
        private final TopologyFixture f;
        private final Random random;
        private long oddStep = 1_000_000;
        private int odd;

        Generator(TopologyFixture f, Random random) {
            this.f = f;
            this.random = random;
        }

        void send(Bad bad, EmbeddingBatch base) throws Exception {
            String id = "bad-" + bad.name().toLowerCase() + "-" + (odd++);
            EmbeddingBatch b = EmbeddingBatch.newBuilder(base).setBatchId(id).build();
            switch (bad) {
                case NAN_IN_EMBEDDING -> f.send(withValue(b, Float.NaN));
                case INFINITY_IN_EMBEDDING -> f.send(withValue(b, random.nextBoolean() ? Float.POSITIVE_INFINITY
                        : Float.NEGATIVE_INFINITY));
                case DIM_CHANGES_WITHIN_JOB -> f.send(withDim(b, DIM * 2));
                case DIM_ZERO -> f.send(EmbeddingBatch.newBuilder(b).setDim(0).build());
                case DIM_NEGATIVE -> f.send(EmbeddingBatch.newBuilder(b).setDim(-DIM).build());
                case DIM_TOO_LARGE -> f.send(withDim(b, InputLimits.DEFAULT_MAX_DIM + 1));
                case EMBEDDING_TOO_SHORT -> f.send(BadRecords.withEmbedding(b, BadRecords.floats(1f, 2f)));
                case EMBEDDING_NOT_FLOATS -> f.send(BadRecords.withEmbedding(b, new byte[4 * DIM - 1]));
                case DUPLICATE_SAMPLE_ID -> {
                    List<Sample> samples = new ArrayList<>(b.getSamples());
                    samples.add(samples.get(random.nextInt(samples.size())));
                    f.send(EmbeddingBatch.newBuilder(b).setSamples(samples).build());
                }
                case EMPTY_SAMPLE_ID -> f.send(mapSamples(b, (i, s) -> i == 0 ? new Sample("", s.getLabel(),
                        s.getEmbedding()) : s));
                case EMPTY_JOB_ID -> f.rawInput.pipeInput(b.getJobId(), f.batches.serializer().serialize(
                        f.config.topics().embeddings(), EmbeddingBatch.newBuilder(b).setJobId("").build()));
                case EMPTY_BATCH_ID -> f.send(EmbeddingBatch.newBuilder(b).setBatchId("").build());
                case TOO_MANY_SAMPLES -> f.send(withSamples(b, InputLimits.DEFAULT_MAX_BATCH_SIZE + 1, DIM, 16));
                case NULL_VALUE -> f.rawInput.pipeInput(b.getJobId(), (byte[]) null);
                case TRUNCATED_AVRO -> {
                    byte[] bytes = bytes(b);
                    f.rawInput.pipeInput(b.getJobId(), Arrays.copyOf(bytes, 5 + random.nextInt(bytes.length - 6)));
                }
                case BAD_MAGIC_BYTE -> f.rawInput.pipeInput(b.getJobId(), BadRecords.withFirstByte(bytes(b),
                        (byte) (1 + random.nextInt(255))));
                case UNKNOWN_SCHEMA_ID -> f.rawInput.pipeInput(b.getJobId(), BadRecords.withSchemaId(bytes(b),
                        100_000 + random.nextInt(1_000)));
                case GARBAGE_AFTER_HEADER -> {
                    byte[] bytes = Arrays.copyOf(bytes(b), 5 + 64);
                    for (int i = 5; i < bytes.length; i++) {
                        bytes[i] = (byte) 0xff; // varints that never end
                    }
                    f.rawInput.pipeInput(b.getJobId(), bytes);
                }
                case WRITER_SCHEMA_WITHOUT_A_REQUIRED_FIELD -> f.rawInput.pipeInput(b.getJobId(),
                        written(b, EmbeddingBatch.getClassSchema(), "dim", null));
                case WRITER_SCHEMA_WITH_AN_EXTRA_FIELD -> f.rawInput.pipeInput(ODD_JOB,
                        written(odd(b), EmbeddingBatch.getClassSchema(), null, "priority"));
                case LABEL_OF_ONE_MEGABYTE -> f.send(mapSamples(b, (i, s) -> i == 0
                        ? new Sample(s.getSampleId(), "l".repeat(1 << 20), s.getEmbedding()) : s));
                case SAMPLE_ID_OF_ONE_MEGABYTE -> f.send(mapSamples(b, (i, s) -> i == 0
                        ? new Sample("s".repeat(1 << 20), s.getLabel(), s.getEmbedding()) : s));
                case LABEL_AT_THE_LENGTH_LIMIT -> f.send(mapSamples(odd(b), (i, s) -> i == 0
                        ? new Sample(s.getSampleId(), "l".repeat(InputLimits.DEFAULT_MAX_ID_LENGTH), s.getEmbedding()) : s));
                case NEGATIVE_STEP -> f.send(EmbeddingBatch.newBuilder(odd(b)).setStep(-1 - random.nextInt(100)).build());
                case STEP_GOING_BACKWARDS -> f.send(EmbeddingBatch.newBuilder(odd(b)).setStep(oddStep - 500).build());
                case EMPTY_BATCH -> f.send(EmbeddingBatch.newBuilder(odd(b)).setSamples(List.of()).build());
                case NULL_KEY -> f.rawInput.pipeInput((String) null, bytes(b));
                case KEY_OTHER_THAN_JOB_ID -> f.rawInput.pipeInput(random.nextBoolean() ? "other-job" : b.getJobId() + "#0",
                        bytes(b));
                case BATCH_OF_TEN_MEGABYTES -> f.send(withSamples(EmbeddingBatch.newBuilder(odd(b)).setJobId(ODD_JOB + "-big")
                        .build(), 2_560, 1_024, 640));
                default -> throw new IllegalStateException(bad.name());
            }
        }

        /** The batch moved to the job of accepted oddities, at that job's next step. */
        private EmbeddingBatch odd(EmbeddingBatch b) {
            return EmbeddingBatch.newBuilder(b).setJobId(ODD_JOB).setStep(oddStep++).build();
        }

        private byte[] bytes(EmbeddingBatch b) {
            return f.batches.serializer().serialize(f.config.topics().embeddings(), b);
        }

        /**
         * The batch in the wire format under a writer schema of its own, registered in the registry:
         * EmbeddingBatch without the field {@code drop}, or with an extra string field {@code add}.
         */
        private byte[] written(EmbeddingBatch b, Schema schema, String drop, String add) throws Exception {
            SchemaBuilder.FieldAssembler<Schema> fields = SchemaBuilder.record(schema.getName())
                    .namespace(schema.getNamespace()).fields();
            for (Schema.Field field : schema.getFields()) {
                if (!field.name().equals(drop)) {
                    fields = fields.name(field.name()).type(field.schema()).noDefault();
                }
            }
            if (add != null) {
                fields = fields.name(add).type().stringType().stringDefault("");
            }
            Schema writer = fields.endRecord();
            GenericRecord record = new GenericData.Record(writer);
            for (Schema.Field field : writer.getFields()) {
                record.put(field.name(), field.name().equals(add) ? "high" : toGeneric(b.get(field.name())));
            }
            // A subject of its own: the topic's subject refuses a schema that old data cannot be read with,
            // but a producer registering elsewhere can still send records pointing at it.
            int id = f.registry.register(drop == null ? f.config.topics().embeddings() + "-value" : "elsewhere-value",
                    writer);
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            out.write(0);
            out.write(ByteBuffer.allocate(4).putInt(id).array());
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
            new GenericDatumWriter<GenericRecord>(writer, GenericData.get()).write(record, encoder);
            encoder.flush();
            return out.toByteArray();
        }
    }

    /** Specific values as the generic writer takes them (instants as epoch milliseconds, samples as records). */
    private static Object toGeneric(Object value) {
        if (value instanceof Instant t) {
            return t.toEpochMilli();
        }
        if (value instanceof List<?> list) {
            return list;
        }
        return value;
    }

    private static EmbeddingBatch withValue(EmbeddingBatch b, float value) {
        return mapSamples(b, (i, s) -> {
            if (i != 0) {
                return s;
            }
            float[] e = new float[DIM];
            Embeddings.decodeLittleEndian(s.getEmbedding().duplicate(), e, 0, DIM);
            e[DIM / 2] = value;
            return new Sample(s.getSampleId(), s.getLabel(), Embeddings.encodeLittleEndian(e, 0, DIM));
        });
    }

    private static EmbeddingBatch withDim(EmbeddingBatch b, int dim) {
        return mapSamples(EmbeddingBatch.newBuilder(b).setDim(dim).build(), (i, s) -> new Sample(s.getSampleId(),
                s.getLabel(), Embeddings.encodeLittleEndian(new float[dim], 0, dim)));
    }

    private static EmbeddingBatch withSamples(EmbeddingBatch b, int count, int dim, int identities) {
        List<Sample> samples = new ArrayList<>(count);
        Random random = new Random(count);
        for (int i = 0; i < count; i++) {
            float[] e = new float[dim];
            for (int k = 0; k < dim; k++) {
                e[k] = (float) random.nextGaussian();
            }
            samples.add(new Sample("big-" + i, "id-" + (i % identities), Embeddings.encodeLittleEndian(e, 0, dim)));
        }
        return EmbeddingBatch.newBuilder(b).setDim(dim).setSamples(samples).build();
    }

    private static EmbeddingBatch mapSamples(EmbeddingBatch b, BiFunction<Integer, Sample, Sample> f) {
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < b.getSamples().size(); i++) {
            out.add(f.apply(i, b.getSamples().get(i)));
        }
        return EmbeddingBatch.newBuilder(b).setSamples(out).build();
    }
}
