package dev.hardmine.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hardmine.runtime.ServiceSettings;
import dev.hardmine.stream.ServiceConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The README's settings tables are the declarations ({@link ServiceSettings#CONFIG}) written out:
 * every key with the flag of {@code run}, the default and the documentation, in order of
 * declaration. When a declaration changes, paste the expected table of the failure into the README.
 */
class SettingsTableTest {

    /** The markdown table of {@code keys}. */
    static String table(Collection<String> keys) {
        Map<String, OptionSpec> flags = SettingFlags.options(
                HardmineCommand.commandLine().getSubcommands().get("run").getCommandSpec());
        StringBuilder t = new StringBuilder("| key | flag | default | meaning |\n|---|---|---|---|\n");
        for (String name : keys) {
            ConfigKey key = ServiceSettings.CONFIG.configKeys().get(name);
            String defaultText = SettingFlags.defaultText(key);
            t.append("| `").append(name).append("` | ")
                    .append(flags.containsKey(name) ? "`" + flags.get(name).longestName() + "`" : "").append(" | ")
                    .append(defaultText.startsWith("(") ? defaultText : "`" + defaultText + "`").append(" | ")
                    .append(key.documentation).append(" |\n");
        }
        return t.toString();
    }

    /** The README's table between the markers of {@code name}. */
    private static String readme(String name) throws IOException {
        String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
        String begin = "<!-- settings: " + name + "; SettingsTableTest checks this table against the declarations -->\n";
        String end = "<!-- end of settings: " + name + " -->";
        int from = readme.indexOf(begin);
        int to = readme.indexOf(end);
        assertThat(from).as("README has the marker %s", begin).isNotNegative();
        assertThat(to).as("README has the marker %s", end).isGreaterThan(from);
        return readme.substring(from + begin.length(), to);
    }

    @Test
    void theJobSettingsTableIsTheirDeclaration() throws IOException {
        assertThat(readme("job")).isEqualTo(table(ServiceConfig.JOB.names()));
    }

    @Test
    void theServiceSettingsTableIsTheirDeclaration() throws IOException {
        Set<String> keys = new LinkedHashSet<>(ServiceSettings.CONFIG.names());
        keys.removeAll(ServiceConfig.JOB.names());
        assertThat(readme("service")).isEqualTo(table(keys));
    }

    @Test
    void everyFlagOfRunSetsADeclaredKey() {
        Set<String> keysWithFlags = SettingFlags.options(
                HardmineCommand.commandLine().getSubcommands().get("run").getCommandSpec()).keySet();
        Set<String> expected = new LinkedHashSet<>(ServiceSettings.CONFIG.names());
        expected.removeAll(Set.of("topics.embeddings", "topics.mined", "topics.stats", "topics.dlq", "topics.jobs",
                "topics.neighbors", "limits.max-batch-size", "limits.max-dim", "limits.max-id-length"));
        assertThat(keysWithFlags).containsExactlyInAnyOrderElementsOf(expected);
    }
}
