package dev.hardmine.mining.internals;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FastExpTest {
    @Test
    void agreesWithMathExpTo3e7RelativeOnTheWholeRange() {
        double worst = 0;
        for (int i = 0; i <= 870_000; i++) {
            float x = -i * 1e-4f;
            double exact = Math.exp(x);
            worst = Math.max(worst, Math.abs(FastExp.expNonPositive(x) / exact - 1));
        }
        assertThat(worst).isLessThan(3e-7);
    }

    @Test
    void isExactlyOneAtZeroAndZeroBelowUnderflow() {
        assertThat(FastExp.expNonPositive(0f)).isEqualTo(1f);
        assertThat(FastExp.expNonPositive(-88f)).isZero();
        assertThat(FastExp.expNonPositive(Float.NEGATIVE_INFINITY)).isZero();
    }
}
