package dev.hardmine.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The client module's dependency tree, as Maven resolves it for this module's tests: a trainer that
 * depends on hardmine-client gets no numerics, no broker, no Kafka Streams, no web or metrics stack.
 */
class ClientDependenciesTest {

    private static final List<String> SERVICE_ONLY = List.of("nd4j", "javacpp", "openblas", "kafka_2.13",
            "kafka-streams", "kafka-server", "kafka-metadata", "rocksdbjni", "micrometer", "picocli", "uplot", "HdrHistogram");

    @Test
    void theClassPathHoldsNoServiceOnlyLibrary() {
        List<String> jars = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(entry -> Path.of(entry).getFileName().toString())
                .filter(name -> name.endsWith(".jar"))
                .toList();
        assertThat(jars).as("the client's class path").anyMatch(name -> name.startsWith("kafka-clients-"))
                .anyMatch(name -> name.startsWith("avro-"));
        for (String library : SERVICE_ONLY) {
            assertThat(jars).as("the client's class path").noneMatch(name -> name.startsWith(library));
        }
    }
}
