package dev.hardmine.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PyTorch example's own unit tests ({@code examples/python/test_*.py}: the losses against
 * XBM's, the memories, the samplers, the decoder against avro.io, the glyph dataset), run by
 * Debian's interpreter as part of the suite. A missing Debian package (python3-torch, python3-pil,
 * the CJK font packages, …) fails them: CI installs them.
 */
class ExamplePythonUnitTest {

    @Test
    @Timeout(300)
    void theExamplesUnitTestsPass(@TempDir Path tmp) throws IOException, InterruptedException {
        Path project = Path.of("").toAbsolutePath().normalize();
        Path out = tmp.resolve("unittest.out");
        Process p = new ProcessBuilder("/usr/bin/python3", "-m", "unittest", "discover", "-v",
                "-s", "examples/python", "-p", "test_*.py")
                .directory(project.toFile()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        p.getOutputStream().close();
        boolean exited = p.waitFor(280, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        assertThat(exited).as(output).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        Matcher ran = Pattern.compile("Ran (\\d+) tests").matcher(output);
        assertThat(ran.find()).as(output).isTrue();
        // test_train.py and test_glyphs.py: 17 tests when this was written; none may be skipped.
        assertThat(Integer.parseInt(ran.group(1))).as(output).isGreaterThanOrEqualTo(17);
        assertThat(output).as(output).doesNotContain("skipped");
    }
}
