package dev.hardmine.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.hardmine.avro.IdentityNeighbors;
import dev.hardmine.avro.MiningStats;
import dev.hardmine.json.RecordJson;
import dev.hardmine.stream.MemorySummary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeSet;

/**
 * The JSON bodies of the HTTP API and of its events. Records (MiningStats, IdentityNeighbors) are
 * written from their schemas by {@link RecordJson}, like replay's JSON lines.
 */
final class ApiJson {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private ApiJson() {
    }

    static ObjectNode error(String message) {
        return MAPPER.createObjectNode().put("error", message);
    }

    static ObjectNode status(String status) {
        return MAPPER.createObjectNode().put("status", status);
    }

    /**
     * The data of a {@code stats} event: a MiningStats window with the schema's field names,
     * timestamps as epoch milliseconds.
     */
    static String statsEvent(MiningStats s) {
        return write(RecordJson.of(s));
    }

    /** The windows, oldest first. */
    static ArrayNode stats(List<MiningStats> windows) {
        ArrayNode out = MAPPER.createArrayNode();
        windows.forEach(s -> out.addPOJO(RecordJson.of(s)));
        return out;
    }

    /** Every job with its latest window, when it has one. */
    static ArrayNode jobs(Map<String, MiningStats> latestByJob) {
        ArrayNode jobs = MAPPER.createArrayNode();
        latestByJob.forEach((job, latest) -> {
            ObjectNode j = jobs.addObject().put("job_id", job);
            if (latest != null) {
                j.putPOJO("latest", RecordJson.of(latest));
            }
        });
        return jobs;
    }

    /**
     * A service sample: {@code at}, {@code consumer_lag} (null when unknown), {@code dead_letters},
     * and, in events, {@code dead_letters_by_reason}.
     */
    static ObjectNode sample(ServiceHistory.Sample s, Map<String, Long> byReason) {
        ObjectNode o = MAPPER.createObjectNode().put("at", s.at());
        if (s.consumerLag() >= 0) {
            o.put("consumer_lag", s.consumerLag());
        } else {
            o.putNull("consumer_lag");
        }
        o.put("dead_letters", s.deadLetters());
        if (byReason != null) {
            o.set("dead_letters_by_reason", reasons(byReason));
        }
        return o;
    }

    /** The service series since a time, with the dead letters by reason now. */
    static ObjectNode service(List<ServiceHistory.Sample> samples, Map<String, Long> byReason) {
        ObjectNode out = MAPPER.createObjectNode();
        ArrayNode list = out.putArray("samples");
        samples.forEach(s -> list.add(sample(s, null)));
        out.set("dead_letters_by_reason", reasons(byReason));
        return out;
    }

    private static ObjectNode reasons(Map<String, Long> byReason) {
        ObjectNode reasons = MAPPER.createObjectNode();
        byReason.forEach(reasons::put);
        return reasons;
    }

    /** A job's memory across the instances: the total when any holds some, and each instance's part. */
    static ObjectNode memory(String job, PeerFanOut.Memory memory) {
        ObjectNode out = MAPPER.createObjectNode().put("job_id", job);
        if (memory.total() != null) {
            summary(out, memory.total());
        }
        out.put("complete", memory.complete());
        partitions(out, memory.partitions());
        ArrayNode instances = out.putArray("instances");
        for (PeerFanOut.Part p : memory.parts()) {
            ObjectNode o = instances.addObject().put("instance", p.instance());
            if (p.summary() != null) {
                summary(o, p.summary());
            } else {
                o.put("error", p.error());
            }
            partitions(o, p.partitions());
        }
        return out;
    }

    private static void partitions(ObjectNode o, Set<Integer> partitions) {
        if (partitions != null) {
            ArrayNode list = o.putArray("partitions");
            partitions.forEach(list::add);
        }
    }

    /** The {@code partitions} an instance's answer says it read, null when it does not say. */
    static Set<Integer> partitions(String body) throws IOException {
        JsonNode list = MAPPER.readTree(body).get("partitions");
        if (list == null || !list.isArray()) {
            return null;
        }
        Set<Integer> out = new TreeSet<>();
        list.forEach(p -> out.add(p.asInt()));
        return out;
    }

    private static void summary(ObjectNode o, MemorySummary s) {
        o.put("size", s.size()).put("identities", s.identities()).put("oldest_step", s.oldestStep())
                .put("newest_step", s.newestStep()).put("dim", s.dim());
    }

    /** An instance's answer for its part of a memory, as {@link #memory} wrote it. */
    static MemorySummary summary(String body) throws IOException {
        JsonNode j = MAPPER.readTree(body);
        return new MemorySummary(j.path("size").asLong(), j.path("identities").asLong(),
                j.path("oldest_step").asLong(-1), j.path("newest_step").asLong(-1), j.path("dim").asInt());
    }

    /**
     * A job's identities with their most confusable ones, how many have any and how concentrated
     * the confusion is (null when none has).
     */
    static ObjectNode neighbors(String job, List<IdentityNeighbors> labels) {
        ObjectNode out = MAPPER.createObjectNode().put("job", job)
                .put("identities", labels.stream().filter(NeighborBoard::counts).count());
        OptionalDouble concentration = NeighborBoard.concentration(labels);
        if (concentration.isPresent()) {
            out.put("concentration", concentration.getAsDouble());
        } else {
            out.putNull("concentration");
        }
        ArrayNode entries = out.putArray("labels");
        labels.forEach(n -> entries.addPOJO(neighbors(n)));
        return out;
    }

    /** A label's entry: {@code label}, {@code step}, {@code neighbors} (highest score first, as published). */
    static RecordJson neighbors(IdentityNeighbors n) {
        return RecordJson.without(n, "job_id");
    }

    static String write(Object body) {
        try {
            return MAPPER.writeValueAsString(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
