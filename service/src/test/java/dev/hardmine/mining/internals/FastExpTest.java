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

    /**
     * Every 61st float of [0, 4) (17.7 million arguments, every binade down to the subnormals) and
     * the worst argument of an exhaustive run over all 1.08 billion (4.96e-7 at t = 2.7406085).
     */
    @Test
    void expMinusAgreesWithMathExpTo5e7RelativeOnItsRange() {
        double worst = relativeError(2.7406085f);
        int end = Float.floatToIntBits(FastExp.EXP_MINUS_RANGE);
        for (int bits = 0; bits < end; bits += 61) {
            worst = Math.max(worst, relativeError(Float.intBitsToFloat(bits)));
        }
        worst = Math.max(worst, relativeError(Math.nextDown(FastExp.EXP_MINUS_RANGE)));
        assertThat(worst).isLessThan(5.0e-7).isGreaterThan(4.9e-7);
    }

    private static double relativeError(float t) {
        return Math.abs(FastExp.expMinus(t) / Math.exp(-(double) t) - 1);
    }
}
