package dev.hardmine.bench;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.Sample;
import dev.hardmine.demo.Demo;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.registry.AvroSerializer;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.registry.internals.WireFormat;
import dev.hardmine.runtime.ServiceInstance;
import dev.hardmine.stream.MinerService;
import dev.hardmine.stream.ServiceConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * hardmine's end-to-end benchmark: the mining service as {@code run} starts it (a
 * {@link ServiceInstance}, without the HTTP side), fed by W
 * publisher threads with pre-generated batches and read back by a {@code read_committed}
 * consumer, against an embedded broker and registry in this JVM or a real cluster. Phases:
 * a warm-up (JIT, memory filling), then capacity (as fast as the service mines, a bounded number of
 * batches in flight), a fixed offered rate, a sweep for the highest rate held within a p99 bound,
 * or an overload at a multiple of capacity, followed by capacity again once its backlog is mined. At
 * the end every published batch must have come back exactly once.
 */
public final class Bench {

    /** The name of the capacity phase that follows an overload, once its backlog is mined. */
    static final String CAPACITY_AFTER = "capacity after";

    /**
     * What to run.
     *
     * @param bootstrap  a cluster to use, or null for an embedded broker (and registry)
     * @param registry   the registry of that cluster, or null for an embedded one
     * @param rate       offered embeddings/s of the measured phase; 0 = capacity
     * @param sweep      find the highest rate whose visible p99 stays under {@code p99BoundMs}
     * @param overload   after capacity, offer this multiple of it, then measure capacity again once the
     *                   backlog is mined; 0 = no overload phase
     * @param overloadRounds how many times to run the overload phase and the capacity phase after it
     *                   (each overload phase set against the capacity phases on either side of it)
     * @param slice      split each measured phase into rows of this length; zero = one row
     * @param stepAlone  time the job's mining step alone ({@link StepAlone}) this long before the phases and again
     *                   after them, back to back, and with a {@code rate} also at its pace; zero = not
     * @param properties service settings over the bench's own (e.g. {@code kafka.commit.interval.ms})
     */
    public record Settings(String bootstrap, String registry, int publishers, int jobs, int shards, int dim,
                           int batch, int identities, int memory, String strategy, double rate, boolean sweep,
                           double p99BoundMs, double overload, int overloadRounds, Duration warmup, Duration duration,
                           Duration slice, int maxInFlight, Duration stepAlone, Map<String, String> properties) {
        public Settings {
            require(publishers >= 1, "--publishers must be >= 1");
            require(jobs >= 1 && jobs <= publishers, "--jobs must be between 1 and --publishers");
            require(shards >= 1, "--shards must be >= 1");
            require(dim >= 1, "--dim must be >= 1");
            require(batch >= 4 && batch % 4 == 0, "--batch must be a multiple of 4 (identities × 4 images)");
            require(identities >= batch / 4, "--identities must be at least --batch / 4");
            require(memory >= 1, "--memory must be >= 1");
            require(rate >= 0, "--rate must be >= 0");
            require(overload >= 0, "--overload must be >= 0");
            require(overloadRounds >= 1, "--overload-rounds must be >= 1");
            require(overloadRounds == 1 || overload > 0, "--overload-rounds needs --overload");
            require(!(sweep && rate > 0), "--sweep and --rate exclude each other");
            require(!duration.isNegative() && !duration.isZero(), "--duration must be > 0");
            require(!warmup.isNegative(), "--warmup must be >= 0");
            require(maxInFlight >= 1, "--max-in-flight must be >= 1");
            require(!stepAlone.isNegative(), "--step-alone must be >= 0");
            // A shard mines part of each batch against part of the memory: not the step StepAlone times.
            require(stepAlone.isZero() || shards == 1, "--step-alone times the step of a job without shards: it needs --shards 1");
            require((bootstrap == null) == (registry == null), "--bootstrap and --registry go together");
            properties = Map.copyOf(properties);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }

        String jobId(int j) {
            return "bench-job-" + (j + 1);
        }
    }

    private final Settings settings;
    private final PrintStream log;

    public Bench(Settings settings, PrintStream log) {
        this.settings = settings;
        this.log = log;
    }

    /** Runs every phase and returns the report. */
    public BenchReport run() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("hardmine-bench-");
        List<AutoCloseable> started = new ArrayList<>();
        try {
            return run(dir, started);
        } finally {
            for (int i = started.size() - 1; i >= 0; i--) {
                try {
                    started.get(i).close();
                } catch (Exception e) {
                    log.println("hardmine bench: while stopping: " + e);
                }
            }
            Demo.deleteRecursively(dir);
        }
    }

    private BenchReport run(Path dir, List<AutoCloseable> started) throws IOException, InterruptedException {
        String runId = Long.toString(System.currentTimeMillis(), 36);
        String bootstrap = settings.bootstrap();
        String registryUrl = settings.registry();
        boolean embedded = bootstrap == null;
        if (embedded) {
            EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().logDir(dir.resolve("kafka")).start();
            started.add(broker);
            EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.builder().kafka(broker.bootstrapServers()).start();
            started.add(registry);
            bootstrap = broker.bootstrapServers();
            registryUrl = registry.url();
        }
        ServiceConfig config = ServiceConfig.fromProperties(serviceProperties(bootstrap, registryUrl, runId,
                dir.resolve("streams"), embedded));
        Map<String, Object> clients = new HashMap<>(config.kafka());
        clients.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);

        ServiceInstance instance = ServiceInstance.start(config, null);
        started.add(instance);
        MinerService service = instance.miner();
        if (!service.awaitRunning(Duration.ofSeconds(120))) {
            throw new IllegalStateException("the mining service did not start within 120 s");
        }
        SchemaRegistryClient registry = instance.registry();
        int schemaId = schemaId(registry, config);

        log.printf("hardmine bench: generating %d publishers' batches…%n", settings.publishers());
        List<String> jobs = new ArrayList<>();
        List<BatchPool> pools = new ArrayList<>();
        int perWorker = Math.max(4, (int) Math.ceil((double) batchesToFill(settings) / settings.publishers()
                * settings.jobs()));
        for (int w = 0; w < settings.publishers(); w++) {
            int job = w % settings.jobs();
            jobs.add(settings.jobId(job));
            pools.add(BatchPool.generate(dataset(settings, job), "p" + w, perWorker, settings.batch() / 4, 4));
        }

        StepAlone.Result aloneBefore = stepAlone("before the phases", config, Duration.ZERO);
        StepAlone.Result pacedBefore = stepAlone("before the phases", config, ratePace());
        JvmProbe jvm = new JvmProbe();
        started.add(jvm);
        Publishers publishers = new Publishers(jobs, pools, schemaId, config.topics().embeddings(), clients,
                settings.maxInFlight());
        MinedReader reader = new MinedReader(clients, config.topics().mined(), registry, settings.publishers(),
                settings.batch(), publishers::seen);
        started.add(reader);
        started.add(publishers);
        reader.start();
        publishers.start();

        List<PhaseMeter.Result> phases = new ArrayList<>();
        Phases runner = new Phases(publishers, reader, jvm, phases);
        if (!settings.warmup().isZero()) {
            publishers.asFastAsMined();
            runner.measure("warm-up", 0, settings.warmup(), Duration.ZERO);
            runner.drain();
        }
        double capacity = Double.NaN;
        Sweep sweep = null;
        if (settings.rate() > 0) {
            publishers.offer(settings.rate());
            runner.measure("rate " + (long) settings.rate(), settings.rate(), settings.duration(),
                    settings.slice());
            runner.drain();
        }
        if (settings.rate() == 0 || settings.overload() > 0) {
            publishers.asFastAsMined();
            capacity = runner.measure("capacity", 0, settings.duration(), settings.slice())
                    .embeddingsPerSecond();
            runner.drain();
        }
        if (settings.sweep()) {
            sweep = runner.sweep(capacity);
        }
        BenchReport.Overload overload = null;
        boolean drained = true;
        if (settings.overload() > 0) {
            double offered = capacity * settings.overload();
            String overloadPhase = String.format(Locale.ROOT, "overload %.1fx", settings.overload());
            int count = settings.overloadRounds();
            List<BenchReport.Overload.Round> rounds = new ArrayList<>();
            double before = capacity;
            for (int round = 1; round <= count && drained; round++) {
                String suffix = count > 1 ? " #" + round : "";
                publishers.offer(offered);
                double mined = runner.measure(overloadPhase + suffix, offered, settings.duration(), settings.slice())
                        .embeddingsPerSecond();
                drained = runner.drain();
                if (drained) {
                    // Capacity again once the backlog is mined: the host's speed drifts by several percent
                    // within minutes, and the mean of the phases on either side takes that out of the ratio.
                    publishers.asFastAsMined();
                    double after = runner.measure(CAPACITY_AFTER + suffix, 0, settings.duration(), settings.slice())
                            .embeddingsPerSecond();
                    rounds.add(BenchReport.Overload.Round.of(before, mined, after));
                    before = after;
                    drained = round == count || runner.drain();
                }
            }
            if (drained) {
                overload = BenchReport.Overload.of(settings.overload(), offered, rounds);
            }
        }
        publishers.pause();
        drained = drained && runner.drain();
        StepAlone.Result aloneAfter = drained ? stepAlone("after the phases", config, Duration.ZERO) : null;
        StepAlone.Result pacedAfter = drained ? stepAlone("after the phases", config, ratePace()) : null;

        long missing = 0;
        for (int w = 0; w < publishers.count(); w++) {
            missing += reader.missing(w, publishers.published(w));
        }
        BenchReport.ExactlyOnce check = new BenchReport.ExactlyOnce(publishers.published(), reader.unique(),
                missing, reader.duplicates(), reader.foreign(), publishers.failures(), service.deadLetters().total(),
                drained);
        return new BenchReport(settings, BenchReport.Machine.here(), embedded, capacity, sweep, overload, phases,
                reference(aloneBefore, aloneAfter), reference(pacedBefore, pacedAfter), check);
    }

    /**
     * The step alone, when the settings ask for it, one step every {@code interval} (zero: back to
     * back; null: not at all): nothing else is published or mined meanwhile.
     */
    private StepAlone.Result stepAlone(String when, ServiceConfig config, Duration interval) {
        if (settings.stepAlone().isZero() || interval == null) {
            return null;
        }
        StepAlone.Result r = StepAlone.time(config, settings, settings.stepAlone(), interval);
        log.printf(Locale.ROOT, "hardmine bench: the step alone %s %s: %.2f ms (%d steps, memory %d)%n", when,
                interval.isZero() ? "back to back" : String.format(Locale.ROOT, "every %.1f ms", r.intervalMs()),
                r.meanMs(), r.steps(), r.memory());
        return r;
    }

    /**
     * How often a job's batch arrives at the fixed offered rate ({@code --rate}), what the step alone
     * is also timed at; null without a rate. The publishers share the rate, and the jobs their batches.
     */
    private Duration ratePace() {
        if (settings.rate() == 0) {
            return null;
        }
        return Duration.ofNanos(Math.round(1e9 * settings.batch() * settings.jobs() / settings.rate()));
    }

    private static BenchReport.Reference reference(StepAlone.Result before, StepAlone.Result after) {
        return before == null || after == null ? null : new BenchReport.Reference(before, after);
    }

    /** Job {@code job}'s synthetic dataset. */
    static SyntheticEmbeddings dataset(Settings settings, int job) {
        return new SyntheticEmbeddings(settings.identities(), settings.dim(), (float) (0.7 / Math.sqrt(settings.dim())),
                42 + job);
    }

    /** Batches a job's publishers send before a sample id comes again: twice the memory's worth, so that it fills. */
    static int batchesToFill(Settings settings) {
        return (int) Math.ceil(2.0 * settings.memory() / settings.batch());
    }

    /** The result of a sweep: the rates tried and the highest one held. */
    public record Sweep(double boundMs, double highestHeld, List<Double> tried) {
    }

    /** Runs the phases and keeps their results. */
    private final class Phases {
        private final Publishers publishers;
        private final MinedReader reader;
        private final JvmProbe jvm;
        private final List<PhaseMeter.Result> results;

        Phases(Publishers publishers, MinedReader reader, JvmProbe jvm, List<PhaseMeter.Result> results) {
            this.publishers = publishers;
            this.reader = reader;
            this.jvm = jvm;
            this.results = results;
        }

        /** Measures for {@code length}, in rows of {@code slice} (zero: one row); returns the whole phase. */
        PhaseMeter.Result measure(String name, double offered, Duration length, Duration slice)
                throws InterruptedException {
            jvm.take();
            Optional<ThreadTimes.Reading> threadsAtStart = ThreadTimes.ofThisJvm();
            PhaseMeter whole = new PhaseMeter();
            long start = System.nanoTime();
            long end = start + length.toNanos();
            boolean sliced = !slice.isZero() && slice.compareTo(length) < 0;
            if (sliced) {
                for (long sliceStart = start; sliceStart < end; sliceStart += slice.toNanos()) {
                    PhaseMeter part = new PhaseMeter();
                    reader.meters(whole, part);
                    sleepUntil(Math.min(end, sliceStart + slice.toNanos()));
                    part.end();
                    long from = (sliceStart - start) / 1_000_000_000L;
                    String row = String.format(Locale.ROOT, "%s [%d-%ds]", name, from, from + Math.round(part.seconds()));
                    results.add(part.result(row, offered, jvm.take(), null, publishers.inFlight()));
                }
            } else {
                reader.meters(whole);
                sleepUntil(end);
            }
            whole.end();
            reader.meters();
            List<ThreadTimes.Group> threads = threadsAtStart
                    .flatMap(first -> ThreadTimes.ofThisJvm().map(last -> ThreadTimes.between(first, last))).orElse(null);
            PhaseMeter.Result r = whole.result(name, offered, sliced ? null : jvm.take(), threads,
                    publishers.inFlight());
            results.add(r);
            log.printf(Locale.ROOT, "hardmine bench: %-16s %9.0f embeddings/s mined, visible p99 %6.0f ms, %d in flight%n",
                    name, r.embeddingsPerSecond(), r.visibleLatency().p99(), r.inFlight());
            return r;
        }

        /**
         * Pauses publishing until every published batch came back; false when the service stops
         * making progress for a minute (or after an hour: an overload's backlog takes as long as
         * the overload to mine).
         */
        boolean drain() throws InterruptedException {
            publishers.pause();
            long deadline = System.nanoTime() + Duration.ofHours(1).toNanos();
            long lastProgress = System.nanoTime();
            long last = reader.unique();
            while (reader.unique() < publishers.published()) {
                if (System.nanoTime() > deadline || System.nanoTime() - lastProgress > 60_000_000_000L) {
                    return false;
                }
                Thread.sleep(50);
                if (reader.unique() != last) {
                    last = reader.unique();
                    lastProgress = System.nanoTime();
                }
            }
            return true;
        }

        /**
         * Bisects the offered rate between 20% and 100% of capacity: a rate is held when the mined
         * rate keeps up with it (≥ 95%) and the visible p99 is under the bound.
         */
        Sweep sweep(double capacity) throws InterruptedException {
            double lo = 0.2 * capacity;
            double hi = capacity;
            double best = Double.NaN;
            List<Double> tried = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                double r = i == 0 ? lo : (lo + hi) / 2;
                publishers.offer(r);
                PhaseMeter.Result res = measure("sweep " + (long) r, r, settings.duration(), Duration.ZERO);
                drain();
                tried.add(r);
                boolean held = res.embeddingsPerSecond() >= 0.95 * r && res.visibleLatency().p99() <= settings.p99BoundMs();
                if (held) {
                    best = Double.isNaN(best) ? r : Math.max(best, r);
                    lo = r;
                } else if (i == 0) {
                    break; // not even a fifth of capacity: nothing to bisect
                } else {
                    hi = r;
                }
            }
            return new Sweep(settings.p99BoundMs(), best, tried);
        }
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        long left;
        while ((left = nanos - System.nanoTime()) > 0) {
            Thread.sleep(Math.max(1, Math.min(left / 1_000_000, 500)));
        }
    }

    /** The service's settings: the bench's shape, then whatever {@code --set} says. */
    Properties serviceProperties(String bootstrap, String registryUrl, String runId, Path stateDir, boolean embedded) {
        Properties p = new Properties();
        p.setProperty("application.id", "hardmine-bench-" + runId);
        p.setProperty("bootstrap.servers", bootstrap);
        p.setProperty("schema.registry.url", registryUrl);
        // A real cluster may hold other runs' topics: each run has topics of its own there.
        p.setProperty("topics.prefix", embedded ? ServiceConfig.DEFAULT_PREFIX : "hardmine-bench-" + runId + ".");
        p.setProperty("shards.per-job", Integer.toString(settings.shards()));
        p.setProperty("mining.strategy", settings.strategy());
        p.setProperty("memory.max-embeddings", Integer.toString(settings.memory()));
        // The count bound, not the per-identity one, keeps the memory at --memory entries.
        p.setProperty("memory.per-identity",
                Integer.toString(Math.max(16, 2 * settings.memory() / settings.identities())));
        p.setProperty("kafka.state.dir", stateDir.toString());
        settings.properties().forEach(p::setProperty);
        return p;
    }

    /** The id the registry gives the EmbeddingBatch schema under the embeddings topic's subject. */
    private static int schemaId(SchemaRegistryClient registry, ServiceConfig config) {
        EmbeddingBatch template = EmbeddingBatch.newBuilder().setJobId("j").setWorkerId("w").setBatchId("b")
                .setStep(0).setProducedAt(Instant.EPOCH).setDim(1)
                .setSamples(List.of(new Sample("s", "l", ByteBuffer.allocate(4)))).build();
        try (AvroSerializer<EmbeddingBatch> serializer = new AvroSerializer<>(registry,
                SerdeConfig.fromMap(MinerService.serdeSettings(config)), false)) {
            return WireFormat.schemaId(serializer.serialize(config.topics().embeddings(), template));
        }
    }
}
