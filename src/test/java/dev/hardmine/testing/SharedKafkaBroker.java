package dev.hardmine.testing;

import dev.hardmine.demo.EmbeddedKafkaBroker;
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
 */
public final class SharedKafkaBroker implements ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(SharedKafkaBroker.class);

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == EmbeddedKafkaBroker.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return broker(extensionContext);
    }

    /** The run's broker, started on first call. */
    public static EmbeddedKafkaBroker broker(ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent("broker", key -> EmbeddedKafkaBroker.start(), EmbeddedKafkaBroker.class);
    }
}
