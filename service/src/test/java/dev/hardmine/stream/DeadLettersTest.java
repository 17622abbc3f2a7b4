package dev.hardmine.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.mining.InvalidBatchException;
import dev.hardmine.registry.WireFormatException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The reasons a dead letter can carry are known up front, so that each can be counted from 0. */
class DeadLettersTest {

    private static List<String> stringConstants(Class<?> type, String namePattern) throws IllegalAccessException {
        List<String> values = new ArrayList<>();
        for (Field f : type.getDeclaredFields()) {
            int m = f.getModifiers();
            if (Modifier.isPublic(m) && Modifier.isStatic(m) && f.getType() == String.class
                    && f.getName().matches(namePattern)) {
                values.add((String) f.get(null));
            }
        }
        return values;
    }

    @Test
    void everyReasonOfTheWireFormatIsListed() throws IllegalAccessException {
        List<String> reasons = new ArrayList<>();
        for (Class<?> type : WireFormatException.class.getPermittedSubclasses()) {
            reasons.addAll(stringConstants(type, "REASON"));
        }
        assertThat(reasons).hasSize(WireFormatException.class.getPermittedSubclasses().length);
        assertThat(DeadLetters.REASONS).containsAll(reasons);
    }

    @Test
    void everyReasonOfTheBatchContractIsListed() throws IllegalAccessException {
        List<String> reasons = stringConstants(InvalidBatchException.class, "[A-Z_]+");
        assertThat(reasons).contains(InvalidBatchException.MALFORMED, InvalidBatchException.DIM_MISMATCH);
        assertThat(DeadLetters.REASONS).containsAll(reasons);
    }

    @Test
    void theHandlersOwnReasonsAreListedAndNoneTwice() {
        assertThat(DeadLetters.REASONS).contains(DeadLetters.DESERIALIZATION, DeadLetters.PROCESSING_ERROR,
                DeadLetters.PRODUCTION_ERROR, DeadLetters.SERIALIZATION_ERROR).doesNotHaveDuplicates();
    }
}
