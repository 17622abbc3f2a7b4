package dev.hardmine.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.mining.MemoryLimits;
import dev.hardmine.mining.MiningSettings;
import dev.hardmine.mining.NeighborSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The synthetic trainers behave like training: as their model improves, mining finds fewer hard
 * and semi-hard triplets; and they train on what hardmine mined for them.
 */
class DemoTrainingTrendTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void hardnessMixFallsAsTheModelTrainsAndTrainersAreFedMinedSamples() throws Exception {
        Demo.Settings settings = new Demo.Settings(0, 0, 0, "127.0.0.1", null, true,
                new SyntheticTrainers.Settings("demo-job", 2, 8, 4, 8, Duration.ofMillis(40), 3), 1,
                300, 6, 32, 80, MiningSettings.defaults(), MemoryLimits.defaults(), new NeighborSettings(8, 200), null, null);
        try (Demo demo = Demo.start(settings)) {
            HttpClient http = HttpClient.newHttpClient();
            URI stats = URI.create(demo.dashboardUrl() + "api/jobs/demo-job/stats?since=0");
            List<Double> hardShare = new ArrayList<>();
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(2)).until(() -> {
                JsonNode windows = JSON.readTree(http.send(HttpRequest.newBuilder(stats).build(),
                        HttpResponse.BodyHandlers.ofString()).body());
                hardShare.clear();
                for (JsonNode w : windows) {
                    double all = w.get("hard").asDouble() + w.get("semi_hard").asDouble() + w.get("easy").asDouble();
                    if (all > 0) {
                        hardShare.add((w.get("hard").asDouble() + w.get("semi_hard").asDouble()) / all);
                    }
                }
                return hardShare.size() >= 9;
            });
            int third = hardShare.size() / 3;
            double early = hardShare.subList(0, third).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            double late = hardShare.subList(hardShare.size() - third, hardShare.size()).stream()
                    .mapToDouble(Double::doubleValue).average().orElseThrow();
            assertThat(late).as("share of hard + semi-hard triplets, early %s late %s", early, late).isLessThan(early);
            assertThat(demo.trainers().get(0).fedSamples()).isPositive();
            assertThat(demo.trainers().get(0).minedReceived()).isPositive();
        }
    }
}
