package dev.hardmine.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Percentage.withPercentage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The bench command end to end at a toy size, embedded broker and registry included: it completes,
 * measures something in each phase, and finds every published batch mined exactly once. Its
 * figures are not checked: performance is measured by running {@code bench}, not by tests.
 */
class BenchSmokeTest {

    @Test
    void aShortRunCountsEveryBatchExactlyOnceAndReportsEachPhase() throws Exception {
        // 1 600 embeddings/s: one batch of 32 every 20 ms per job, below the capacity of the toy shapes.
        Bench.Settings settings = new Bench.Settings(null, null, 2, 2, 1, 16, 32, 64, 512, "batch-hard", 1600, false,
                250, 1.5, 1, Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ZERO, 8, Duration.ofSeconds(1),
                Map.of("kafka.commit.interval.ms", "100"));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        BenchReport report = new Bench(settings, new PrintStream(log, true, StandardCharsets.UTF_8)).run();

        assertThat(report.exactlyOnce().holds()).as(report.exactlyOnce().toString()).isTrue();
        assertThat(report.exactlyOnce().published()).isPositive().isEqualTo(report.exactlyOnce().mined());
        assertThat(report.phases()).extracting(PhaseMeter.Result::name)
                .containsExactly("warm-up", "rate 1600", "capacity", "overload 1.5x", Bench.CAPACITY_AFTER);
        for (PhaseMeter.Result phase : report.phases()) {
            assertThat(phase.batches()).as(phase.name()).isPositive();
            assertThat(phase.visibleLatency().p99()).as(phase.name())
                    .isGreaterThanOrEqualTo(phase.minedLatency().p50());
            assertThat(phase.jvm()).isNotNull();
            // Where the JVM's CPU went: every thread first, then the groups by time on a CPU.
            assertThat(phase.threads()).as(phase.name()).isNotEmpty();
            assertThat(phase.threads().get(0).name()).isEqualTo(ThreadTimes.ALL);
            assertThat(phase.threads().get(0).onCpuCores()).as(phase.name()).isPositive();
            assertThat(phase.threads().subList(1, phase.threads().size()))
                    .isSortedAccordingTo((x, y) -> x.name().equals(ThreadTimes.OTHER) ? 1
                            : y.name().equals(ThreadTimes.OTHER) ? -1 : Double.compare(y.onCpuCores(), x.onCpuCores()));
        }
        assertThat(report.capacity()).isPositive();
        // The step alone, before and after the phases, in the job's memory filled to its bound.
        for (StepAlone.Result alone : List.of(report.stepAlone().before(), report.stepAlone().after())) {
            assertThat(alone.steps()).isPositive();
            assertThat(alone.meanMs()).isPositive();
            assertThat(alone.memory()).isEqualTo(512);
        }
        assertThat(report.stepAlone().ratio(report.phases().get(2)))
                .isCloseTo(report.phases().get(2).miningMsMean() / report.stepAlone().meanMs(),
                        withPercentage(0.01));
        // And at the rate's pace: two jobs share the 1 600/s, so a job's batch of 32 comes every 40 ms;
        // of the second half of each second, 500 ms, at most one step every 40 ms was timed.
        for (StepAlone.Result paced : List.of(report.stepAlonePaced().before(), report.stepAlonePaced().after())) {
            assertThat(paced.intervalMs()).isEqualTo(40.0);
            assertThat(paced.steps()).isBetween(1L, 13L);
            assertThat(paced.meanMs()).isPositive();
            assertThat(paced.memory()).isEqualTo(512);
        }
        assertThat(report.stepAlone().before().intervalMs()).isZero();
        // The overload phase offered 1.5 times what the capacity phase mined, and is set against it and
        // against the capacity phase after it.
        PhaseMeter.Result overloaded = report.phases().get(3);
        assertThat(overloaded.offered()).isCloseTo(1.5 * report.capacity(),
                withPercentage(0.01));
        BenchReport.Overload overload = report.overload();
        assertThat(overload.multiple()).isEqualTo(1.5);
        assertThat(overload.offered()).isEqualTo(overloaded.offered());
        assertThat(overload.mined()).isEqualTo(overloaded.embeddingsPerSecond());
        assertThat(overload.capacityBefore()).isEqualTo(report.capacity());
        assertThat(overload.capacityAfter()).isEqualTo(report.phases().get(4).embeddingsPerSecond()).isPositive();
        assertThat(overload.ofBefore()).isCloseTo(overload.mined() / report.capacity(),
                withPercentage(0.01));
        assertThat(overload.ofMean()).isCloseTo(2 * overload.mined() / (overload.capacityBefore() + overload.capacityAfter()),
                withPercentage(0.01));

        ByteArrayOutputStream table = new ByteArrayOutputStream();
        report.printTable(new PrintStream(table, true, StandardCharsets.UTF_8));
        assertThat(table.toString(StandardCharsets.UTF_8))
                .contains("capacity", "overload 1.5x", "exactly once: all " + report.exactlyOnce().published())
                .containsPattern("the step alone \\(.*\\): [0-9.]+ ms before the phases, [0-9.]+ ms after")
                .containsPattern("the service's step against it: warm-up [0-9.]+x; rate 1600 [0-9.]+x; capacity [0-9.]+x; "
                        + "overload 1.5x [0-9.]+x; capacity after [0-9.]+x\n")
                .containsPattern("the step alone at the offered rate's pace \\(one step every 40.0 ms, .*\\): [0-9.]+ ms "
                        + "before the phases, [0-9.]+ ms after \\([0-9]+ and [0-9]+ steps timed\\)\n"
                        + "the service's step against it: rate 1600 [0-9.]+x\n")
                .containsPattern("overload 1.5x: [0-9]+ embeddings/s mined while [0-9]+ were offered: [0-9.]+ % of the "
                        + "capacity before it \\([0-9]+/s\\), [0-9.]+ % of the capacity after it \\([0-9]+/s\\), "
                        + "[0-9.]+ % of their mean")
                .containsPattern("\n  capacity +all [0-9.]+/[0-9.]+ \\| ");

        JsonNode json = new ObjectMapper().readTree(report.toJson());
        assertThat(json.at("/exactlyOnce/duplicates").asLong()).isZero();
        // The kernel set the products ran on, read from the loaded library.
        assertThat(json.at("/machine/blasKernels").asText()).matches("[A-Z0-9]+( \\(OPENBLAS_CORETYPE=.+\\))?");
        assertThat(json.at("/machine/cpu").asText()).isNotBlank();
        assertThat(json.at("/phases/1/visibleLatency/p99").isNumber()).isTrue();
        assertThat(json.at("/settings/batch").asInt()).isEqualTo(32);
        assertThat(json.at("/stepAlone/after/steps").asLong()).isEqualTo(report.stepAlone().after().steps());
        assertThat(json.at("/phases/1/threads/0/name").asText()).isEqualTo(ThreadTimes.ALL);
        assertThat(json.at("/phases/1/threads/0/onCpuCores").isNumber()).isTrue();
        assertThat(json.at("/overload/ofMean").asDouble()).isEqualTo(overload.ofMean());
        assertThat(json.at("/stepAlonePaced/before/intervalMs").asDouble()).isEqualTo(40.0);
    }

    @Test
    void overloadRoundsAlternateWithCapacityAndSetEachAgainstThePhasesAroundIt() throws Exception {
        Bench.Settings settings = new Bench.Settings(null, null, 2, 1, 1, 16, 32, 64, 512, "batch-hard", 0, false,
                250, 2, 2, Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ZERO, 8, Duration.ZERO,
                Map.of("kafka.commit.interval.ms", "100"));
        BenchReport report = new Bench(settings, new PrintStream(new ByteArrayOutputStream(), true,
                StandardCharsets.UTF_8)).run();

        assertThat(report.exactlyOnce().holds()).as(report.exactlyOnce().toString()).isTrue();
        assertThat(report.phases()).extracting(PhaseMeter.Result::name).containsExactly("warm-up", "capacity",
                "overload 2.0x #1", Bench.CAPACITY_AFTER + " #1", "overload 2.0x #2", Bench.CAPACITY_AFTER + " #2");
        List<Double> rates = report.phases().stream().map(PhaseMeter.Result::embeddingsPerSecond).toList();
        assertThat(rates).allSatisfy(r -> assertThat(r).isPositive());
        BenchReport.Overload overload = report.overload();
        // Each overload phase between the capacity phases on either side of it; the second round's
        // capacity before is the first round's capacity after.
        assertThat(overload.rounds()).extracting(BenchReport.Overload.Round::capacityBefore)
                .containsExactly(rates.get(1), rates.get(3));
        assertThat(overload.rounds()).extracting(BenchReport.Overload.Round::mined)
                .containsExactly(rates.get(2), rates.get(4));
        assertThat(overload.rounds()).extracting(BenchReport.Overload.Round::capacityAfter)
                .containsExactly(rates.get(3), rates.get(5));
        assertThat(overload.rounds().get(1).ofMean()).isCloseTo(rates.get(4) / ((rates.get(3) + rates.get(5)) / 2),
                withPercentage(1e-9));
        assertThat(overload.mined()).isCloseTo((rates.get(2) + rates.get(4)) / 2,
                withPercentage(1e-9));
        assertThat(overload.capacityAfter()).isCloseTo((rates.get(3) + rates.get(5)) / 2,
                withPercentage(1e-9));
        assertThat(overload.ofMean()).isCloseTo((overload.rounds().get(0).ofMean() + overload.rounds().get(1).ofMean()) / 2,
                withPercentage(1e-9));
        assertThat(overload.offered()).isEqualTo(report.phases().get(2).offered()).isEqualTo(report.phases().get(4).offered());
        ByteArrayOutputStream table = new ByteArrayOutputStream();
        report.printTable(new PrintStream(table, true, StandardCharsets.UTF_8));
        assertThat(table.toString(StandardCharsets.UTF_8)).containsPattern("overload 2.0x, 2 rounds: [0-9]+ embeddings/s "
                + "mined on average while [0-9]+ were offered: .*round by round, against the capacity phases on either "
                + "side: [0-9.]+, [0-9.]+ %, [0-9.]+ % on average");
        JsonNode json = new ObjectMapper().readTree(report.toJson());
        assertThat(json.at("/overload/rounds").size()).isEqualTo(2);
        assertThat(json.at("/overload/rounds/1/ofMean").asDouble()).isEqualTo(overload.rounds().get(1).ofMean());
    }

    @Test
    void withIdentityShardingEachBatchComesBackInPartsThatAddUpToItOnce() throws Exception {
        Bench.Settings settings = new Bench.Settings(null, null, 2, 1, 2, 16, 32, 64, 512, "batch-hard", 0, false,
                250, 0, 1, Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ZERO, 8, Duration.ZERO, Map.of());
        BenchReport report = new Bench(settings, new PrintStream(new ByteArrayOutputStream(), true,
                StandardCharsets.UTF_8)).run();

        assertThat(report.exactlyOnce().holds()).as(report.exactlyOnce().toString()).isTrue();
        assertThat(report.phases()).extracting(PhaseMeter.Result::name).containsExactly("warm-up", "capacity");
        assertThat(report.stepAlone()).isNull();
        assertThat(report.overload()).isNull();
        assertThat(report.stepAlonePaced()).isNull();
        PhaseMeter.Result capacity = report.phases().get(1);
        // 8 identities of a batch over 2 shards: mined in two parts nearly always, each its own memory.
        assertThat(capacity.memorySize()).isLessThan(512);
        assertThat(capacity.batches()).isPositive();
    }
}
