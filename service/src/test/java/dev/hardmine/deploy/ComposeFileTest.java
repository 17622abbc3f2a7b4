package dev.hardmine.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.hardmine.runtime.ServiceSettings;
import dev.hardmine.stream.ServiceConfig;
import dev.hardmine.web.HttpSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The docker-compose deployment, checked without a Docker engine: docker-compose itself validates
 * the file, every file it mounts or builds from is in the repository, and hardmine's properties
 * file is a configuration {@code run} accepts.
 */
class ComposeFileTest {

    private record Result(int exitCode, String output) {
    }

    private static Result dockerCompose(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("docker-compose", "-f", "docker-compose.yml"));
        cmd.addAll(List.of(args));
        Process p;
        try {
            ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true);
            builder.environment().remove("HARDMINE_HTTP_TOKEN");
            p = builder.start();
        } catch (IOException e) {
            return fail("docker-compose is not installed (apt-get install docker-compose; .ci/run does): " + e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }

    @Test
    void dockerComposeValidatesTheFile() throws Exception {
        Result r = dockerCompose("config", "-q");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).isBlank();
    }

    @Test
    void everyServiceIsThereAndEveryMountedFileIsInTheRepository() throws Exception {
        Result r = dockerCompose("config");
        assertThat(r.exitCode()).as(r.output()).isZero();
        Result services = dockerCompose("config", "--services");
        assertThat(services.output().lines().toList())
                .containsExactlyInAnyOrder("kafka", "schema-registry", "hardmine", "prometheus", "grafana");
        // Bind mounts come out as "- /absolute/host/path:/container/path[:mode]".
        Matcher m = Pattern.compile("(?m)^\\s*- (/[^:\\s]+):/").matcher(r.output());
        List<Path> mounted = new ArrayList<>();
        while (m.find()) {
            mounted.add(Path.of(m.group(1)));
        }
        assertThat(mounted).hasSize(3).allSatisfy(p -> assertThat(p).exists());
        assertThat(Path.of("Dockerfile")).exists();
        for (String line : Files.readAllLines(Path.of("Dockerfile"))) {
            if (line.startsWith("COPY ") && !line.contains("--from")) {
                assertThat(Path.of(line.split("\\s+")[1])).as(line).exists();
            }
        }
    }

    @Test
    void theServicesPropertiesFileIsAConfigurationRunAccepts() throws IOException {
        ServiceSettings settings = ServiceSettings.resolve(
                ServiceSettings.load(Path.of("deploy", "hardmine.properties")), Map.of(), Map.of());
        HttpSettings http = settings.http();
        ServiceConfig config = settings.service();
        assertThat(http.port()).isEqualTo(8080);
        assertThat(config.bootstrapServers()).isEqualTo("kafka:9092");
        assertThat(config.schemaRegistryUrl()).isEqualTo("http://schema-registry:8081");
        // Prometheus scrapes the service by its compose name and the port of the properties file.
        assertThat(Files.readString(Path.of("deploy", "prometheus", "prometheus.yml")))
                .contains("targets: [\"hardmine:" + http.port() + "\"]", "metrics_path: /metrics");
    }
}
