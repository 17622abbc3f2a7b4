package dev.hardmine.testing;

import dev.hardmine.demo.EmbeddedKafkaBroker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit extension that gives tests one real Kafka broker for the whole test run.
 *
 * <p>{@code @ExtendWith(SharedKafkaBroker.class)} on a class lets its constructor, lifecycle methods
 * and tests take an {@link EmbeddedKafkaBroker} parameter. The broker is started on first use, kept
 * in the root extension store (so every class of the run shares it: a start costs about two seconds)
 * and closed by JUnit when the run ends. Tests sharing it use topic names of their own.
 *
 * <p>A {@link LiveMining} parameter is a fixture of the test's own on that broker (its own topics,
 * a {@code mock://} registry scope and a temporary directory), closed, with the services it
 * started, when the test ends.
 */
public final class SharedKafkaBroker implements ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SharedKafkaBroker.class);

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        Class<?> type = parameterContext.getParameter().getType();
        return type == EmbeddedKafkaBroker.class || type == LiveMining.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        if (parameterContext.getParameter().getType() == EmbeddedKafkaBroker.class) {
            return broker(extensionContext);
        }
        try {
            Path root = Files.createTempDirectory("live-mining-");
            LiveMining live = LiveMining.withMockRegistry(broker(extensionContext), root);
            live.closeLater(() -> deleteRecursively(root)); // after the services it starts
            // The store of the test's context closes what it holds when the test ends.
            extensionContext.getStore(NAMESPACE).put(UUID.randomUUID(), live);
            return live;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The run's broker, started on first call. */
    public static EmbeddedKafkaBroker broker(ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent("broker", key -> EmbeddedKafkaBroker.start(), EmbeddedKafkaBroker.class);
    }
}
