package dev.hardmine.mining;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which of its kernel sets the OpenBLAS under ND4J chose for this CPU, and the advice to log when
 * that choice leaves the products slower than they need be. The library (0.3.19, built for every
 * x86-64 CPU it knew) picks a set when it loads, from the CPU, or from {@code OPENBLAS_CORETYPE}
 * in the environment. It does not know AMD's Zen 5 and falls back there to its oldest AMD set
 * ({@code Barcelona}, SSE only): on a Zen 5 host its {@code Haswell} set (AVX2) made the products
 * 2.2× faster and its {@code SkylakeX} set (AVX-512) 3.6× (docs/PERFORMANCE.md). The variable is
 * read only when the library loads, so a running JVM can advise it, not set it: {@code hardmine}'s
 * launcher (dev.hardmine.cli.Launcher) starts the command in a second JVM with it set.
 *
 * <p>The chosen set is the library's global {@code gotoblas}, a pointer to one of its
 * {@code gotoblas_<NAME>} tables: both are exported symbols, read here without calling into the
 * library.
 */
public final class BlasKernels {
    private static final Logger LOG = LoggerFactory.getLogger(BlasKernels.class);

    /** The tables of OpenBLAS 0.3.19's x86-64 build, by the name its symbols carry. */
    static final List<String> TABLES = List.of("ATHLON", "BANIAS", "BARCELONA", "BULLDOZER", "COOPERLAKE",
            "COPPERMINE", "CORE2", "EXCAVATOR", "HASWELL", "KATMAI", "NEHALEM", "NORTHWOOD", "PILEDRIVER",
            "PRESCOTT", "SANDYBRIDGE", "SKYLAKEX", "STEAMROLLER", "ZEN");

    /** The sets with AVX-512 products, and those with AVX2 and FMA products at least. */
    private static final Set<String> AVX512_SETS = Set.of("SKYLAKEX", "COOPERLAKE");
    private static final Set<String> AVX2_SETS = Set.of("HASWELL", "ZEN", "SKYLAKEX", "COOPERLAKE");

    /** What those sets need of the CPU, as /proc/cpuinfo names it. */
    private static final Set<String> AVX512_FLAGS = Set.of("avx512f", "avx512bw");
    private static final Set<String> AVX2_FLAGS = Set.of("avx2", "fma");

    private BlasKernels() {
    }

    /**
     * The name of the set the library uses (one of {@link #TABLES}; the library is loaded first if
     * it is not yet), empty if it cannot be told. Never throws: what it reports is advice.
     */
    public static Optional<String> chosen() {
        try {
            Loader.load(openblas_nolapack.class);
            Pointer current = Loader.addressof("gotoblas");
            if (current == null || current.isNull()) {
                return Optional.empty();
            }
            long table = new PointerPointer<>(current).get(0).address();
            for (String name : TABLES) {
                Pointer candidate = Loader.addressof("gotoblas_" + name);
                if (candidate != null && candidate.address() == table) {
                    return Optional.of(name);
                }
            }
            return Optional.empty();
        } catch (RuntimeException | LinkageError e) {
            LOG.debug("cannot tell OpenBLAS's kernels", e);
            return Optional.empty();
        }
    }

    /**
     * The fastest set a CPU with {@code cpuFlags} can run, when the library chose a slower one,
     * {@code chosen}, by itself: {@code SkylakeX} or {@code Haswell}, as {@code OPENBLAS_CORETYPE}
     * spells them. None when the environment's {@code coretype} ({@link #coretype}, null when it
     * names none) made the choice.
     */
    public static Optional<String> faster(String chosen, Set<String> cpuFlags, String coretype) {
        if (coretype != null) {
            return Optional.empty();
        }
        if (cpuFlags.containsAll(AVX512_FLAGS) && !AVX512_SETS.contains(chosen)) {
            return Optional.of("SkylakeX");
        } else if (cpuFlags.containsAll(AVX2_FLAGS) && !AVX2_SETS.contains(chosen)) {
            return Optional.of("Haswell");
        }
        return Optional.empty();
    }

    /**
     * The set to start this JVM's successor with, {@link #faster} than the one the loaded library
     * chose on this machine (loading it first), as {@code OPENBLAS_CORETYPE} spells it; none when
     * the environment chose or the library's choice is the fastest.
     */
    public static Optional<String> fasterHere() {
        return chosen().flatMap(BlasKernels::fasterHere);
    }

    /** {@link #faster} than {@code chosen} on this machine, in this environment. */
    private static Optional<String> fasterHere(String chosen) {
        return faster(chosen, cpuFlags(Path.of("/proc/cpuinfo")), coretype().orElse(null));
    }

    /** The advice to log for a library that chose {@code chosen} (see {@link #faster}). */
    static Optional<String> advice(String chosen, Set<String> cpuFlags, String coretype) {
        return faster(chosen, cpuFlags, coretype).map(better -> advice(chosen, better));
    }

    private static String advice(String chosen, String better) {
        return "OpenBLAS chose its " + chosen + " kernels for this CPU, which can run faster ones: start the service "
                + "with OPENBLAS_CORETYPE=" + better + " in its environment for faster mining products (README, Performance)";
    }

    /** The CPU's flags from /proc/cpuinfo's first {@code flags} line; empty where there is none. */
    public static Set<String> cpuFlags(Path cpuinfo) {
        return cpuinfoField(cpuinfo, "flags")
                .map(flags -> Set.copyOf(Arrays.asList(flags.split("\\s+"))))
                .orElse(Set.of());
    }

    /** The CPU's name from /proc/cpuinfo's first {@code model name} line (x86), e.g. {@code Intel(R) Xeon(R) Processor}. */
    public static Optional<String> cpuModel(Path cpuinfo) {
        return cpuinfoField(cpuinfo, "model name").filter(name -> !name.isEmpty());
    }

    /** The value of the first {@code key : value} line of /proc/cpuinfo; empty without the file or the key. */
    private static Optional<String> cpuinfoField(Path cpuinfo, String key) {
        try (var lines = Files.lines(cpuinfo)) {
            return lines.filter(line -> line.startsWith(key) && line.indexOf(':') > 0
                            && line.substring(0, line.indexOf(':')).trim().equals(key))
                    .findFirst()
                    .map(line -> line.substring(line.indexOf(':') + 1).trim());
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * The set the library uses, with the environment's choice when it made one, e.g.
     * {@code HASWELL (OPENBLAS_CORETYPE=Haswell)}; {@code unknown} when it cannot be told.
     */
    public static String describe() {
        return chosen().orElse("unknown") + coretype().map(c -> " (OPENBLAS_CORETYPE=" + c + ")").orElse("");
    }

    /** The environment's {@code OPENBLAS_CORETYPE}, empty when it is unset or blank. */
    static Optional<String> coretype() {
        return Optional.ofNullable(System.getenv("OPENBLAS_CORETYPE")).filter(c -> !c.isBlank());
    }

    /** Logs the advice, if any, for the loaded library on this machine; once per process (ScoreMatrix). */
    static void logAdvice() {
        Optional<String> chosen = chosen();
        chosen.ifPresent(name -> LOG.debug("OpenBLAS kernels: {}", name));
        chosen.flatMap(name -> fasterHere(name).map(better -> advice(name, better))).ifPresent(LOG::warn);
    }
}
