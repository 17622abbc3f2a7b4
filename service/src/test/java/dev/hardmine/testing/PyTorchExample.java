package dev.hardmine.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hardmine.registry.Utf8KeySerde;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Runs the PyTorch example ({@code examples/python/train.py}) as a user does, with the system's
 * Python 3 and its Debian packages (python3-torch, python3-confluent-kafka, python3-avro,
 * python3-requests), which CI installs.
 */
public final class PyTorchExample {
    public static final String PYTHON = "/usr/bin/python3";
    private static final ObjectMapper JSON = new ObjectMapper();

    private PyTorchExample() {
    }

    /** The project's root, where {@code examples/python} is (Maven runs the tests from there). */
    public static Path project() {
        return Path.of("").toAbsolutePath().normalize();
    }

    /** Fails with the import error when one of the packages the example needs is missing. */
    public static void requirePackages(Path tmp) throws IOException, InterruptedException {
        run(List.of(PYTHON, "-c", "import torch, numpy, avro.io, confluent_kafka.schema_registry"), tmp,
                Duration.ofSeconds(60));
    }

    /**
     * Trains {@code steps} steps of {@code job} (worker {@code worker}, seed 3) against hardmine at
     * {@code bootstrap} and {@code registryUrl}, with {@code flags}; the summary it prints at the end.
     */
    public static JsonNode train(Path tmp, String bootstrap, String registryUrl, String job, String worker, int steps,
                                 String... flags) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(PYTHON, "examples/python/train.py", "--bootstrap", bootstrap,
                "--registry", registryUrl, "--job", job, "--worker", worker, "--steps", "" + steps, "--seed", "3"));
        command.addAll(List.of(flags));
        List<String> output = run(command, tmp, Duration.ofSeconds(150));
        String line = output.stream().filter(l -> l.startsWith("SUMMARY ")).reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no SUMMARY line in " + output));
        return JSON.readTree(line.substring("SUMMARY ".length()));
    }

    /** Runs a command in the project's root to its end (at most {@code timeout}) and returns its standard output; fails unless it exits 0. */
    public static List<String> run(List<String> command, Path tmp, Duration timeout) throws IOException, InterruptedException {
        Path out = Files.createTempFile(tmp, "run-", ".out");
        Path err = Files.createTempFile(tmp, "run-", ".err");
        Process p = new ProcessBuilder(command).directory(project().toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        p.getOutputStream().close();
        boolean exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (!exited) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        List<String> stdout = Files.readAllLines(out, StandardCharsets.UTF_8);
        if (!exited || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + (exited ? " exited " + p.exitValue() : " timed out after " + timeout)
                    + "\nstdout:\n" + String.join("\n", stdout) + "\nstderr:\n" + Files.readString(err, StandardCharsets.UTF_8));
        }
        return stdout;
    }

    /**
     * Reads {@code topic} from its start (read_committed) until {@code expected} records {@code ours}
     * have come, or 60 s have passed; those records' values, in each partition's order.
     */
    public static <T> List<T> readAll(String bootstrap, String topic, Deserializer<T> values, Predicate<T> ours,
                                      int expected) {
        List<T> out = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new Utf8KeySerde().deserializer(), values)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(20)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (out.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, T> r : consumer.poll(Duration.ofMillis(200))) {
                    if (ours.test(r.value())) {
                        out.add(r.value());
                    }
                }
            }
        }
        return out;
    }
}
