package dev.hardmine.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeftoverStoreDirectoriesTest {
    @TempDir
    Path stateDir;

    @Test
    void theNamedStoresDirectoriesGoWithWhatTheyHoldAndNothingElseDoes() throws IOException {
        Path app = stateDir.resolve("app");
        Path emptyWindow = Files.createDirectories(app.resolve("2_0/stats-window"));
        Path segment = Files.createDirectories(app.resolve("2_1/stats-window/stats-window.1796505960000"));
        Files.writeString(segment.resolve("000012.sst"), "a segment's file");
        Path otherStore = Files.createDirectories(app.resolve("1_0/rocksdb/memory"));
        Path otherStoreFile = Files.writeString(otherStore.resolve("CURRENT"), "MANIFEST-000005");
        Path deeperNamesake = Files.createDirectories(app.resolve("1_1/rocksdb/stats-window"));
        Path fileNamedLikeTheStore = Files.createDirectories(app.resolve("2_2")).resolve("stats-window");
        Files.writeString(fileNamedLikeTheStore, "not a directory");
        Files.createFile(app.resolve(".lock"));

        List<Path> removed = LeftoverStoreDirectories.remove(app, List.of("stats-window"));

        assertThat(removed).containsExactly(emptyWindow, app.resolve("2_1/stats-window"));
        assertThat(emptyWindow).doesNotExist();
        assertThat(app.resolve("2_1/stats-window")).doesNotExist();
        assertThat(app.resolve("2_0")).isDirectory(); // the task directories stay
        assertThat(app.resolve("2_1")).isDirectory();
        assertThat(otherStoreFile).hasContent("MANIFEST-000005");
        assertThat(deeperNamesake).isDirectory();
        assertThat(fileNamedLikeTheStore).isRegularFile();
        assertThat(app.resolve(".lock")).isRegularFile();
        assertThat(LeftoverStoreDirectories.remove(app, List.of("stats-window"))).as("a second start").isEmpty();
    }

    @Test
    void aStateDirectoryNotCreatedYetHasNothingToRemove() {
        assertThat(LeftoverStoreDirectories.remove(stateDir.resolve("never-started"), List.of("stats-window")))
                .isEmpty();
    }

    @Test
    void theApplicationDirectoryIsTheStateDirectoryAndTheApplicationId() {
        assertThat(LeftoverStoreDirectories.applicationDirectory(Map.of(StreamsConfig.STATE_DIR_CONFIG, "/var/lib/hm",
                StreamsConfig.APPLICATION_ID_CONFIG, "miner"))).isEqualTo(Path.of("/var/lib/hm/miner"));
        Object defaultDir = StreamsConfig.configDef().defaultValues().get(StreamsConfig.STATE_DIR_CONFIG);
        assertThat(LeftoverStoreDirectories.applicationDirectory(Map.of(StreamsConfig.APPLICATION_ID_CONFIG, "miner")))
                .isEqualTo(Path.of(defaultDir.toString(), "miner"));
    }
}
