package dev.hardmine.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import dev.hardmine.demo.EmbeddedKafkaBroker;
import dev.hardmine.registry.AvroDeserializer;
import dev.hardmine.registry.EmbeddedSchemaRegistry;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.PyTorchExample;
import dev.hardmine.testing.RunProcess;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PyTorch example's {@code --max-lead} against a miner that stalls: {@code hardmine run} (a child
 * process, on a broker and a registry in this JVM, with the topics the example uses) is stopped with
 * SIGSTOP for {@link #STALL} while the example trains, and continued. The broker goes on: the
 * example waits for each publish to be acknowledged, so a stopped broker would hold it back by
 * itself, whatever {@code --max-lead} says. The same run without a stall is the control.
 */
@Timeout(300)
class PyTorchMaxLeadTest {
    private static final int STEPS = 150;
    private static final int MAX_LEAD = 10;
    /** The miner is stopped once the example has published this step. */
    private static final int STALL_AT = 40;
    /** Under Kafka Streams' transaction timeout (10 s): a longer stop would have the broker abort the open transaction. */
    private static final Duration STALL = Duration.ofSeconds(8);
    private static final String WORKER = "worker-0";

    @Test
    void theExampleWaitsForAStalledMinerInsteadOfRunningAheadAndGoesOnOnceItIsBack(@TempDir Path tmp) throws Exception {
        PyTorchExample.requirePackages(tmp);
        try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start();
             EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.builder().start();
             RunProcess run = RunProcess.start(tmp, LiveMining.properties("hardmine.", kafka.bootstrapServers(),
                     registry.url(), tmp.resolve("state"), "http.port", "0", "topics.partitions", "1"),
                     "hardmine.embeddings");
             SchemaRegistryClient client = SchemaRegistryClient.forUrl(registry.url())) {
            String bootstrap = kafka.bootstrapServers();
            JsonNode calm = PyTorchExample.train(tmp, bootstrap, registry.url(), "max-lead-calm", WORKER, STEPS,
                    "--memory-start", "50", "--max-lead", "" + MAX_LEAD);

            CompletableFuture<JsonNode> training = CompletableFuture.supplyAsync(() -> {
                try {
                    return PyTorchExample.train(tmp, bootstrap, registry.url(), "max-lead-stall", WORKER, STEPS,
                            "--memory-start", "50", "--max-lead", "" + MAX_LEAD);
                } catch (IOException | InterruptedException e) {
                    throw new CompletionException(e);
                }
            });
            assertThat(PyTorchExample.readAll(bootstrap, "hardmine.embeddings",
                    new AvroDeserializer<>(EmbeddingBatch.class, client),
                    b -> b.getJobId().equals("max-lead-stall") && b.getStep() >= STALL_AT, 1))
                    .as("a batch of step %d or later published by the example", STALL_AT).hasSize(1);
            List<Long> pids = new ArrayList<>(List.of(run.process().pid()));
            run.process().descendants().forEach(d -> pids.add(d.pid()));
            signal("STOP", pids);
            try {
                Thread.sleep(STALL.toMillis());
            } finally {
                signal("CONT", pids);
            }
            JsonNode stalled = training.get(200, TimeUnit.SECONDS);

            assertThat(stalled.get("steps").asInt()).as("%s", stalled).isEqualTo(STEPS);
            assertThat(stalled.get("lead_waits").asInt()).as("%s", stalled).isPositive();
            // The example reaches its lead within the stall (it runs a step in well under a second here)
            // and waits out most of it; the calm run waits little or not at all.
            double waitedForTheStall = stalled.get("seconds_lead_wait").asDouble()
                    - calm.get("seconds_lead_wait").asDouble();
            assertThat(waitedForTheStall).as("seconds waited beyond the calm run's; stalled %s; calm %s", stalled, calm)
                    .isGreaterThan(STALL.toSeconds() / 2.0).isLessThan(STALL.toSeconds() + 30);
            assertThat(stalled.get("mined_stale").asInt()).as("%s", stalled).isZero();
            List<MinedBatch> mined = PyTorchExample.readAll(bootstrap, "hardmine.mined",
                    new AvroDeserializer<>(MinedBatch.class, client),
                    b -> b.getJobId().equals("max-lead-stall") && b.getWorkerId().equals(WORKER), STEPS);
            assertThat(mined).extracting(MinedBatch::getStep).as("the stalled run's batches, mined")
                    .containsExactlyElementsOf(LongStream.range(0, STEPS).boxed().toList());
            System.out.printf("--max-lead %d, the miner stopped for %d s at step %d: the example waited at %d steps, "
                            + "%.2f s in all (%.1f s for %d steps); without a stall %d steps, %.2f s; every batch mined%n",
                    MAX_LEAD, STALL.toSeconds(), STALL_AT, stalled.get("lead_waits").asInt(),
                    stalled.get("seconds_lead_wait").asDouble(), stalled.get("seconds_loop").asDouble(), STEPS,
                    calm.get("lead_waits").asInt(), calm.get("seconds_lead_wait").asDouble());
        }
    }

    private static void signal(String signal, List<Long> pids) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
        pids.forEach(pid -> command.add(Long.toString(pid)));
        Process kill = new ProcessBuilder(command).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).as("%s", command).isTrue();
    }
}
