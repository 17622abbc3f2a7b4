package dev.hardmine.registry.internals;

import java.util.function.Consumer;

/**
 * Where the registry's state is kept: an ordered log of {@link LogEntry}s. Every entry read from the
 * log (including the ones this instance appended) is handed to the sink given at {@link #start}, in
 * log order; the sink applies it to the in-memory state. The log is the source of truth: a write is
 * applied only once the log has accepted it.
 */
public interface SchemaLog extends AutoCloseable {

    /**
     * Replays the whole log into {@code sink} and returns once the state is up to date; from then on
     * keeps handing it new entries.
     */
    void start(Consumer<LogEntry> sink);

    /**
     * Appends an entry and returns once the sink has applied it.
     *
     * @throws dev.hardmine.registry.SchemaRegistryException 500 with 50001 or 50002 when the log refuses
     *                                                       or does not answer in time
     */
    void append(LogEntry entry);

    @Override
    void close();
}
