package dev.hardmine.mining;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

/** Which kernels the OpenBLAS under ND4J chose, and when to advise the AVX-512 ones. */
class BlasKernelsTest {
    private static final Set<String> ZEN5 = Set.of("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq",
            "avx512bw", "avx512vl");
    private static final Set<String> AVX2 = Set.of("sse4_2", "avx", "avx2", "fma");

    @Test
    void theLoadedLibrarysChoiceIsOneOfItsTablesAndFollowsTheEnvironment() {
        Nd4j.create(new float[] {1f, 2f}, 1, 2).mmul(Nd4j.create(new float[] {3f, 4f}, 2, 1)); // loads OpenBLAS

        assertThat(BlasKernels.chosen()).get().isIn(BlasKernels.TABLES);
        if (BlasKernels.coretype().filter("SkylakeX"::equalsIgnoreCase).isPresent()) {
            assertThat(BlasKernels.chosen()).contains("SKYLAKEX");
        }
    }

    @Test
    void theFastestSetTheCpuRunsIsAdvisedWhenTheLibraryChoseASlowerOne() {
        assertThat(BlasKernels.advice("HASWELL", ZEN5, null)).get().asString()
                .contains("HASWELL", "OPENBLAS_CORETYPE=SkylakeX");
        assertThat(BlasKernels.advice("BARCELONA", ZEN5, null)).get().asString()
                .contains("BARCELONA", "OPENBLAS_CORETYPE=SkylakeX");
        assertThat(BlasKernels.advice("BARCELONA", AVX2, null)).get().asString()
                .contains("OPENBLAS_CORETYPE=Haswell");
        assertThat(BlasKernels.advice("SANDYBRIDGE", AVX2, null)).get().asString()
                .contains("OPENBLAS_CORETYPE=Haswell");
    }

    @Test
    void noAdviceWhenTheChoiceIsTheUsersOrTheFastestTheCpuRuns() {
        assertThat(BlasKernels.advice("BARCELONA", ZEN5, "Haswell")).isEmpty();
        assertThat(BlasKernels.advice("SKYLAKEX", ZEN5, null)).isEmpty();
        assertThat(BlasKernels.advice("COOPERLAKE", ZEN5, null)).isEmpty();
        assertThat(BlasKernels.advice("HASWELL", AVX2, null)).isEmpty();
        assertThat(BlasKernels.advice("ZEN", AVX2, null)).isEmpty();
        assertThat(BlasKernels.advice("HASWELL", Set.of("avx2", "fma", "avx512f"), null)).isEmpty(); // no avx512bw
        assertThat(BlasKernels.advice("NEHALEM", Set.of("sse4_2", "avx"), null)).isEmpty(); // nothing faster to run
    }

    @Test
    void cpuFlagsAreTheFirstFlagsLineAndNoneWithoutTheFile(@TempDir Path dir) throws IOException {
        Path cpuinfo = dir.resolve("cpuinfo");
        Files.writeString(cpuinfo, """
                processor\t: 0
                vendor_id\t: AuthenticAMD
                flags\t\t: fpu avx2 avx512f avx512bw avx512f
                bugs\t\t: sysret_ss_attrs

                processor\t: 1
                flags\t\t: fpu sse2
                """);

        assertThat(BlasKernels.cpuFlags(cpuinfo)).containsExactlyInAnyOrder("fpu", "avx2", "avx512f", "avx512bw");
        assertThat(BlasKernels.cpuFlags(dir.resolve("absent"))).isEmpty();
    }

    @Test
    void theCpuModelIsTheFirstModelNameLineNotTheModelNumber(@TempDir Path dir) throws IOException {
        Path cpuinfo = dir.resolve("cpuinfo");
        Files.writeString(cpuinfo, """
                processor\t: 0
                vendor_id\t: GenuineIntel
                model\t\t: 167
                model name\t: Intel(R) Xeon(R) Processor
                flags\t\t: fpu avx2

                processor\t: 1
                model name\t: Other
                """);
        Path withoutName = dir.resolve("arm");
        Files.writeString(withoutName, "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\n");

        assertThat(BlasKernels.cpuModel(cpuinfo)).contains("Intel(R) Xeon(R) Processor");
        assertThat(BlasKernels.cpuModel(withoutName)).isEmpty();
        assertThat(BlasKernels.cpuModel(dir.resolve("absent"))).isEmpty();
    }
}
