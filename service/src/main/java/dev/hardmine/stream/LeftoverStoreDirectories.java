package dev.hardmine.stream;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes, before Kafka Streams opens its stores, the directories an earlier release kept for stores
 * that are no longer on disk. The stats window's store is in memory and restores from its changelog
 * (MiningTopology.statsWindowStore); the directory a release before kept for it in each of its
 * tasks' directories would otherwise stay there, never read again.
 *
 * <p>Only directories named after such a store, one level below a task directory, are removed, and
 * only while this process holds the state directory's lock (Kafka Streams takes it when the
 * {@code KafkaStreams} instance is created, and the stores are opened at its start).
 */
final class LeftoverStoreDirectories {
    private static final Logger LOG = LoggerFactory.getLogger(LeftoverStoreDirectories.class);

    private LeftoverStoreDirectories() {
    }

    /**
     * Kafka Streams' directory for the application in {@code streamsProperties}: {@code state.dir}
     * (or its default) and the application id.
     */
    static Path applicationDirectory(Map<?, ?> streamsProperties) {
        Object stateDir = streamsProperties.get(StreamsConfig.STATE_DIR_CONFIG);
        if (stateDir == null) {
            stateDir = StreamsConfig.configDef().defaultValues().get(StreamsConfig.STATE_DIR_CONFIG);
        }
        return Path.of(stateDir.toString(), streamsProperties.get(StreamsConfig.APPLICATION_ID_CONFIG).toString());
    }

    /**
     * Removes {@code TASK/STORE} under {@code applicationDirectory}, with all it holds, for every task
     * directory and every store of {@code formerlyOnDisk} that is a directory; returns what it removed.
     */
    static List<Path> remove(Path applicationDirectory, Collection<String> formerlyOnDisk) {
        List<Path> removed = new ArrayList<>();
        if (!Files.isDirectory(applicationDirectory)) {
            return removed;
        }
        try (Stream<Path> tasks = Files.list(applicationDirectory)) {
            for (Path task : tasks.filter(Files::isDirectory).sorted().toList()) {
                for (String store : formerlyOnDisk) {
                    Path dir = task.resolve(store);
                    if (Files.isDirectory(dir)) {
                        Utils.delete(dir.toFile());
                        removed.add(dir);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the store directories left in " + applicationDirectory, e);
        }
        if (!removed.isEmpty()) {
            LOG.info("removed {} director{} of stores no longer kept on disk: {}",
                    removed.size(), removed.size() == 1 ? "y" : "ies", removed);
        }
        return removed;
    }
}
