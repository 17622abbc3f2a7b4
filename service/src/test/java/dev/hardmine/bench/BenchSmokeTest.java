package dev.hardmine.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
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
        Bench.Settings settings = new Bench.Settings(null, null, 2, 2, 1, 16, 32, 64, 512, "batch-hard", 0, false,
                250, 1.5, Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ZERO, 8,
                Map.of("kafka.commit.interval.ms", "100"));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        BenchReport report = new Bench(settings, new PrintStream(log, true, StandardCharsets.UTF_8)).run();

        assertThat(report.exactlyOnce().holds()).as(report.exactlyOnce().toString()).isTrue();
        assertThat(report.exactlyOnce().published()).isPositive().isEqualTo(report.exactlyOnce().mined());
        assertThat(report.phases()).extracting(PhaseMeter.Result::name)
                .containsExactly("warm-up", "capacity", "overload 1.5x");
        for (PhaseMeter.Result phase : report.phases()) {
            assertThat(phase.batches()).as(phase.name()).isPositive();
            assertThat(phase.visibleLatency().p99()).as(phase.name())
                    .isGreaterThanOrEqualTo(phase.minedLatency().p50());
            assertThat(phase.jvm()).isNotNull();
        }
        assertThat(report.capacity()).isPositive();
        // The overload phase offered 1.5 times what the capacity phase mined.
        assertThat(report.phases().get(2).offered()).isCloseTo(1.5 * report.capacity(),
                org.assertj.core.data.Percentage.withPercentage(0.01));

        ByteArrayOutputStream table = new ByteArrayOutputStream();
        report.printTable(new PrintStream(table, true, StandardCharsets.UTF_8));
        assertThat(table.toString(StandardCharsets.UTF_8))
                .contains("capacity", "overload 1.5x", "exactly once: all " + report.exactlyOnce().published());

        JsonNode json = new ObjectMapper().readTree(report.toJson());
        assertThat(json.at("/exactlyOnce/duplicates").asLong()).isZero();
        // The kernel set the products ran on, read from the loaded library.
        assertThat(json.at("/machine/blasKernels").asText()).matches("[A-Z0-9]+( \\(OPENBLAS_CORETYPE=.+\\))?");
        assertThat(json.at("/machine/cpu").asText()).isNotBlank();
        assertThat(json.at("/phases/1/visibleLatency/p99").isNumber()).isTrue();
        assertThat(json.at("/settings/batch").asInt()).isEqualTo(32);
    }

    @Test
    void withIdentityShardingEachBatchComesBackInPartsThatAddUpToItOnce() throws Exception {
        Bench.Settings settings = new Bench.Settings(null, null, 2, 1, 2, 16, 32, 64, 512, "batch-hard", 0, false,
                250, 0, Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ZERO, 8, Map.of());
        BenchReport report = new Bench(settings, new PrintStream(new ByteArrayOutputStream(), true,
                StandardCharsets.UTF_8)).run();

        assertThat(report.exactlyOnce().holds()).as(report.exactlyOnce().toString()).isTrue();
        assertThat(report.phases()).extracting(PhaseMeter.Result::name).containsExactly("warm-up", "capacity");
        PhaseMeter.Result capacity = report.phases().get(1);
        // 8 identities of a batch over 2 shards: mined in two parts nearly always, each its own memory.
        assertThat(capacity.memorySize()).isLessThan(512);
        assertThat(capacity.batches()).isPositive();
    }
}
