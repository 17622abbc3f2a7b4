package dev.hardmine.mining;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.junit.jupiter.api.Test;

class SampleBatchTest {
    private final SampleBatch batch = new SampleBatch("b", "w", 1, 2, new String[] {"s1", "s2"},
            new String[] {"A", "B"}, new float[] {0, 1, 1, 0});

    @Test
    void asStepIsTheSameSamplesUnderAnotherBatchIdAndStep() {
        SampleBatch later = batch.asStep("b7", 7);

        assertThat(later.batchId()).isEqualTo("b7");
        assertThat(later.step()).isEqualTo(7);
        assertThat(later.workerId()).isEqualTo("w");
        assertThat(later.dim()).isEqualTo(2);
        assertThat(List.of(later.sampleId(0), later.sampleId(1), later.label(0), later.label(1)))
                .containsExactly("s1", "s2", "A", "B");
        assertThat(later.embeddings()).isSameAs(batch.embeddings());
        assertThat(batch.batchId()).isEqualTo("b");
        assertThat(batch.step()).isEqualTo(1);
    }

    @Test
    void asStepChecksTheBatchIdAsTheConstructorDoes() {
        InvalidBatchException e = catchThrowableOfType(InvalidBatchException.class, () -> batch.asStep("", 2));
        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(InvalidBatchException.EMPTY_ID);
    }
}
