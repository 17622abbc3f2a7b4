package dev.hardmine.stream;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes, before Kafka Streams opens them, the directories of window stores that hold no segment.
 *
 * <p>Kafka Streams 4.4 keeps each persistent store's changelog offset inside the store. A window store
 * keeps it in its segments, so one without a segment — its task never had a record (a partition no
 * job hashes to), or all its windows expired — closes cleanly with its offset nowhere. At the next
 * start, under exactly-once, Kafka Streams finds the store's directory, no offset, and takes the task
 * for corrupted: it logs a {@code TaskCorruptedException} at ERROR, wipes the task and forces a
 * rebalance, on every restart. Such a directory is empty, so removing it is what the wipe would do,
 * without the alarm and the rebalance: the task counts as new and its store restores from the start
 * of its changelog, as after the wipe.
 *
 * <p>Only empty directories named after a window store are removed, and only while this process
 * holds the state directory's lock (Kafka Streams takes it when the {@code KafkaStreams} instance is
 * created, and the stores are opened at its start).
 */
final class WindowStoreDirectories {
    private static final Logger LOG = LoggerFactory.getLogger(WindowStoreDirectories.class);

    private WindowStoreDirectories() {
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
     * Removes {@code TASK/STORE} under {@code applicationDirectory} for every task directory and every
     * store of {@code windowStores} that is an empty directory; returns what it removed.
     */
    static List<Path> removeEmpty(Path applicationDirectory, Collection<String> windowStores) {
        List<Path> removed = new ArrayList<>();
        if (!Files.isDirectory(applicationDirectory)) {
            return removed;
        }
        try (Stream<Path> tasks = Files.list(applicationDirectory)) {
            for (Path task : tasks.filter(Files::isDirectory).sorted().toList()) {
                for (String store : windowStores) {
                    Path dir = task.resolve(store);
                    if (isEmptyDirectory(dir) && delete(dir)) {
                        removed.add(dir);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the task directories of " + applicationDirectory, e);
        }
        if (!removed.isEmpty()) {
            LOG.info("removed {} window store director{} without segments (no changelog offset to keep): {}",
                    removed.size(), removed.size() == 1 ? "y" : "ies", removed);
        }
        return removed;
    }

    /** Whether {@code dir} is a directory with nothing in it. */
    static boolean isEmptyDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    private static boolean delete(Path dir) throws IOException {
        try {
            Files.delete(dir);
            return true;
        } catch (DirectoryNotEmptyException | NoSuchFileException e) {
            return false; // no longer empty, or gone: nothing to remove
        }
    }
}
