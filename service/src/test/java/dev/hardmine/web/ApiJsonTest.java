package dev.hardmine.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.MiningStats;
import dev.hardmine.avro.Neighbor;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/**
 * The API's records, written from their schemas, against the tree-building writers the server had
 * before: the same bytes for a MiningStats window with every field set and for a label's neighbours.
 */
class ApiJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static MiningStats window() {
        return MiningStats.newBuilder().setJobId("job/ü").setWindowStart(Instant.ofEpochMilli(1_700_000_000_000L))
                .setWindowEnd(Instant.ofEpochMilli(1_700_000_002_000L)).setBatches(3).setEmbeddings(192)
                .setTriplets(180).setValidAnchors(170).setHard(3).setSemiHard(5).setEasy(90)
                .setMeanLossBatchHard(0.1).setMeanLossSemiHard(1.0 / 3).setMeanLossWeighted(Double.NaN)
                .setMeanDAp(0.9).setMeanDAn(1e-7).setMemorySize(1000).setMemoryIdentities(40).setStalenessMean(2.5)
                .setStalenessMax(7).setLatencyP50Ms(40).setLatencyP99Ms(90.125).setLatencyMaxMs(Double.POSITIVE_INFINITY)
                .setMiningMsMean(0.3).setMargin(0.2).setGapLow(-0.8).setGapWidth(0.05)
                .setGapCounts(List.of(0L, 4L, Long.MAX_VALUE)).build();
    }

    private static IdentityNeighbors neighbors() {
        return new IdentityNeighbors("job", "cat", 42L,
                List.of(new Neighbor("dog", 1.75, 3L, 40L), new Neighbor("fox", 0.1 + 0.2, 1L, 12L)));
    }

    /** The server's former writer of a MiningStats window. */
    private static ObjectNode formerStats(MiningStats s) {
        ObjectNode o = JSON.createObjectNode();
        for (Schema.Field f : s.getSchema().getFields()) {
            Object v = s.get(f.pos());
            if (v instanceof Instant t) {
                o.put(f.name(), t.toEpochMilli());
            } else if (v instanceof Long l) {
                o.put(f.name(), l);
            } else if (v instanceof Double d) {
                o.put(f.name(), d);
            } else if (v instanceof List<?> list) {
                ArrayNode a = o.putArray(f.name());
                list.forEach(x -> a.add((Long) x));
            } else {
                o.put(f.name(), String.valueOf(v));
            }
        }
        return o;
    }

    /** The server's former writer of a label's entry. */
    private static ObjectNode formerNeighbors(IdentityNeighbors n) {
        ObjectNode o = JSON.createObjectNode().put("label", n.getLabel()).put("step", n.getStep());
        ArrayNode list = o.putArray("neighbors");
        for (Neighbor x : n.getNeighbors()) {
            list.addObject().put("label", x.getLabel()).put("score", x.getScore()).put("count", x.getCount())
                    .put("last_step", x.getLastStep());
        }
        return o;
    }

    @Test
    void aWindowWithEveryFieldSetIsWrittenAsBeforeInEventsTheStatsListAndTheJobs() throws Exception {
        MiningStats s = window();
        String former = JSON.writeValueAsString(formerStats(s));

        assertThat(ApiJson.statsEvent(s)).isEqualTo(former)
                .contains("\"window_start\":1700000000000,", "\"mean_loss_weighted\":\"NaN\",",
                        "\"gap_counts\":[0,4,9223372036854775807]");
        assertThat(ApiJson.write(ApiJson.stats(List.of(s, s)))).isEqualTo("[" + former + "," + former + "]");
        Map<String, MiningStats> latest = new LinkedHashMap<>();
        latest.put("job/ü", s);
        latest.put("idle", null);
        assertThat(ApiJson.write(ApiJson.jobs(latest)))
                .isEqualTo("[{\"job_id\":\"job/ü\",\"latest\":" + former + "},{\"job_id\":\"idle\"}]");
    }

    @Test
    void aLabelsNeighboursAreWrittenAsBeforeWithoutTheJobId() throws Exception {
        IdentityNeighbors n = neighbors();
        String former = JSON.writeValueAsString(formerNeighbors(n));

        assertThat(ApiJson.write(ApiJson.neighbors(n))).isEqualTo(former);
        assertThat(ApiJson.write(ApiJson.neighbors("job", List.of(n))))
                .startsWith("{\"job\":\"job\",\"identities\":1,\"concentration\":")
                .endsWith(",\"labels\":[" + former + "]}");
    }
}
