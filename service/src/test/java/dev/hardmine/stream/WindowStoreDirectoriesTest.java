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

class WindowStoreDirectoriesTest {
    @TempDir
    Path stateDir;

    @Test
    void onlyEmptyDirectoriesOfTheNamedWindowStoresAreRemoved() throws IOException {
        Path app = stateDir.resolve("app");
        Path emptyWindow = Files.createDirectories(app.resolve("2_0/stats-window"));
        Path withSegment = Files.createDirectories(app.resolve("2_1/stats-window/stats-window.1796505960000"));
        Path otherStore = Files.createDirectories(app.resolve("1_0/rocksdb/memory"));
        Path emptyOther = Files.createDirectories(app.resolve("1_1/other-window"));
        Path fileNamedLikeTheStore = Files.createDirectories(app.resolve("2_2")).resolve("stats-window");
        Files.writeString(fileNamedLikeTheStore, "not a directory");
        Files.createFile(app.resolve(".lock"));

        List<Path> removed = WindowStoreDirectories.removeEmpty(app, List.of("stats-window"));

        assertThat(removed).containsExactly(emptyWindow);
        assertThat(emptyWindow).doesNotExist();
        assertThat(emptyWindow.getParent()).isDirectory(); // the task directory stays, now empty
        assertThat(withSegment).isDirectory();
        assertThat(otherStore).isDirectory();
        assertThat(emptyOther).isDirectory();
        assertThat(fileNamedLikeTheStore).isRegularFile();
    }

    @Test
    void aStateDirectoryNotCreatedYetHasNothingToRemove() {
        assertThat(WindowStoreDirectories.removeEmpty(stateDir.resolve("never-started"), List.of("stats-window")))
                .isEmpty();
    }

    @Test
    void theApplicationDirectoryIsTheStateDirectoryAndTheApplicationId() {
        assertThat(WindowStoreDirectories.applicationDirectory(Map.of(StreamsConfig.STATE_DIR_CONFIG, "/var/lib/hm",
                StreamsConfig.APPLICATION_ID_CONFIG, "miner"))).isEqualTo(Path.of("/var/lib/hm/miner"));
        Object defaultDir = StreamsConfig.configDef().defaultValues().get(StreamsConfig.STATE_DIR_CONFIG);
        assertThat(WindowStoreDirectories.applicationDirectory(Map.of(StreamsConfig.APPLICATION_ID_CONFIG, "miner")))
                .isEqualTo(Path.of(defaultDir.toString(), "miner"));
    }
}
