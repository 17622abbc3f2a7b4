package dev.hardmine.registry.internals;

import java.util.Objects;
import java.util.function.Consumer;

/** A log that keeps nothing: entries are applied as they are appended. For tests and {@code mock://}. */
public final class InMemorySchemaLog implements SchemaLog {

    private Consumer<LogEntry> sink;

    @Override
    public synchronized void start(Consumer<LogEntry> sink) {
        this.sink = Objects.requireNonNull(sink, "sink");
    }

    @Override
    public synchronized void append(LogEntry entry) {
        if (sink == null) {
            throw new IllegalStateException("log not started");
        }
        sink.accept(entry);
    }

    @Override
    public void close() {
    }
}
