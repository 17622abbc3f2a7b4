package dev.hardmine.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.stream.MinerService;
import dev.hardmine.testing.LiveMining;
import dev.hardmine.testing.SharedKafkaBroker;
import dev.hardmine.testing.SyntheticLog;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two instances of one application, each with its HTTP side as its {@code application.server}:
 * either one answers {@code /api/jobs/{id}/memory} for every job, the jobs it does not hold read
 * through interactive queries from the other.
 */
@ExtendWith(SharedKafkaBroker.class)
@Timeout(120)
class MemoryAcrossInstancesIntegrationTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newHttpClient();
    private LiveMining live;

    @BeforeEach
    void slice(LiveMining live) {
        this.live = live; // closed by the extension when the test ends
    }

    private WebServer instance(Properties base, List<MinerService> services) throws Exception {
        WebServer web = new WebServer(new WebServer.Options("127.0.0.1", 0, null), new StatsBoard());
        live.closeLater(web);
        Properties p = new Properties();
        p.putAll(base);
        p.setProperty("kafka.state.dir", live.newStateDir().toString());
        p.setProperty("kafka.application.server", web.hostPort());
        MinerService miner = live.start(p);
        web.serve(MinerView.of(miner, HostInfo.buildFromEndpoint(web.hostPort()), java.util.OptionalLong::empty));
        services.add(miner);
        return web;
    }

    private JsonNode memory(WebServer web, String job) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(web.url() + "api/jobs/" + job + "/memory"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    @Test
    void eachInstanceAnswersForEveryJobWhereverItsMemoryLives() throws Exception {
        String jobA = jobOnPartition(0);
        String jobB = jobOnPartition(1);
        List<EmbeddingBatch> log = new ArrayList<>();
        for (EmbeddingBatch b : SyntheticLog.batches(77, 8, 4, 3, 8)) {
            log.add(EmbeddingBatch.newBuilder(b).setJobId(b.getJobId().equals("job-0") ? jobA : jobB).build());
        }
        Properties base = live.properties("memory.per-identity", "0");
        List<MinerService> services = new ArrayList<>();
        WebServer one = instance(base, services);
        WebServer two = instance(base, services);
        // Each instance mines one of the two input partitions, so each holds one of the two jobs.
        await().atMost(LiveMining.TIMEOUT).until(() -> services.stream()
                .allMatch(s -> s.streams().state() == KafkaStreams.State.RUNNING && inputPartitions(s) == 1));

        log.forEach(live::send);
        live.awaitMined(log.size());

        for (String job : List.of(jobA, jobB)) {
            Set<String> sampleIds = new HashSet<>();
            Set<String> labels = new HashSet<>();
            log.stream().filter(b -> b.getJobId().equals(job)).forEach(b -> b.getSamples().forEach(s -> {
                sampleIds.add(s.getSampleId());
                labels.add(s.getLabel());
            }));
            long newest = log.stream().filter(b -> b.getJobId().equals(job)).mapToLong(EmbeddingBatch::getStep).max()
                    .orElseThrow();
            List<String> holders = new ArrayList<>();
            for (WebServer web : List.of(one, two)) {
                JsonNode m = memory(web, job);
                assertThat(m.get("size").asLong()).as("%s from %s", job, web.hostPort()).isEqualTo(sampleIds.size());
                assertThat(m.get("identities").asLong()).isEqualTo(labels.size());
                assertThat(m.get("newest_step").asLong()).isEqualTo(newest);
                assertThat(m.get("complete").asBoolean()).isTrue();
                assertThat(m.get("instances")).hasSize(1);
                String holder = m.get("instances").get(0).get("instance").asText();
                holders.add(holder.equals("local") ? web.hostPort() : holder);
            }
            assertThat(holders).as("both instances name the same holder of " + job).containsOnly(holders.get(0));
        }
        assertThat(List.of(memory(one, jobA), memory(one, jobB)))
                .extracting(m -> m.get("instances").get(0).get("instance").asText())
                .as("the first instance holds one job and reads the other from the second")
                .containsExactlyInAnyOrder("local", two.hostPort());
    }

    private long inputPartitions(MinerService service) {
        return service.streams().metadataForLocalThreads().stream().flatMap(t -> t.activeTasks().stream())
                .flatMap(task -> task.topicPartitions().stream())
                .filter(tp -> tp.topic().equals(live.topics().embeddings())).count();
    }

    private static String jobOnPartition(int partition) {
        for (int i = 0; i < 100; i++) {
            if (LiveMining.partitionOf("job-" + i, 2) == partition) {
                return "job-" + i;
            }
        }
        throw new IllegalStateException("no job id of the first 100 lands on partition " + partition);
    }
}
