package dev.hardmine.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

class CommandLineTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cmd = HardmineCommand.commandLine();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }

    @Test
    void topLevelHelpListsTheCommands() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("demo", "run", "replay", "bench");
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo", "run", "replay"})
    void everyCommandsHelpListsEveryFlag(String command) {
        assertThat(run(command, "--help")).isZero();
        CommandLine sub = HardmineCommand.commandLine().getSubcommands().get(command);
        String help = out.toString().replace("--[no-]", "--");
        for (OptionSpec option : sub.getCommandSpec().options()) {
            assertThat(help).contains(option.longestName());
        }
        assertThat(out.toString().replaceAll("\\s+", " ")).contains("--strategy", "--margin", "--memory-per-identity",
                "Triplet margin, >= 0 (key mining.margin, default: 0.2).");
    }

    @Test
    void benchHelpListsEveryFlagWithItsDefault() {
        assertThat(run("bench", "--help")).isZero();
        CommandLine sub = HardmineCommand.commandLine().getSubcommands().get("bench");
        for (OptionSpec option : sub.getCommandSpec().options()) {
            assertThat(out.toString()).contains(option.longestName());
        }
        assertThat(out.toString()).contains("--rate", "--sweep", "--overload", "16384", "(default: 250)");
    }

    @Test
    void benchRejectsContradictorySettingsAsAUsageError() {
        assertThat(run("bench", "--overload-rounds", "3")).isEqualTo(2);
        assertThat(err.toString()).contains("--overload-rounds needs --overload");
        assertThat(run("bench", "--overload", "2", "--overload-rounds", "0")).isEqualTo(2);
        assertThat(err.toString()).contains("--overload-rounds must be >= 1");
        assertThat(run("bench", "--rate", "1000", "--sweep")).isEqualTo(2);
        assertThat(err.toString()).contains("--sweep and --rate exclude each other").contains("Usage: hardmine bench");
        assertThat(run("bench", "--batch", "30")).isEqualTo(2);
        assertThat(err.toString()).contains("--batch must be a multiple of 4");
        assertThat(run("bench", "--step-alone", "-5s")).isEqualTo(2);
        assertThat(err.toString()).contains("--step-alone must be >= 0");
        assertThat(run("bench", "--shards", "2", "--step-alone", "20s")).isEqualTo(2);
        assertThat(err.toString()).contains("--step-alone times the step of a job without shards");
    }

    @Test
    void demoHelpGivesTheDefaultPorts() {
        run("demo", "--help");
        assertThat(out.toString()).contains("--kafka-port", "(default: 9092)", "(default: 8081)", "default: 8080)");
    }

    @Test
    void unknownFlagIsAOneLineErrorWithUsageAndExitCode2() {
        assertThat(run("demo", "--no-such-flag")).isEqualTo(2);
        String[] lines = err.toString().split("\n");
        assertThat(lines[0]).contains("Unknown option: '--no-such-flag'");
        assertThat(err.toString()).contains("Usage: hardmine demo");
    }

    @Test
    void wrongValueIsAUsageErrorWithExitCode2() {
        assertThat(run("demo", "--kafka-port", "many")).isEqualTo(2);
        assertThat(err.toString()).contains("'many' is not an int").contains("Usage:");
    }

    @Test
    void aWrongValueOfAFlagIsAUsageErrorNamingTheKey() {
        assertThat(run("run", "--bootstrap-servers", "k:1", "--schema-registry-url", "mock://x", "--margin", "wide"))
                .isEqualTo(2);
        assertThat(err.toString()).contains("wide", "mining.margin").contains("Usage: hardmine run");
        assertThat(run("demo", "--http-port", "70000")).isEqualTo(2);
        assertThat(err.toString()).contains("http.port must be between 0 and 65535").contains("Usage: hardmine demo");
    }

    @Test
    void anUnknownKeyInTheConfigFileIsAUsageErrorNamingIt(@TempDir Path dir) throws IOException {
        Path config = Files.writeString(dir.resolve("hardmine.properties"),
                "bootstrap.servers=k:1\nschema.registry.url=mock://x\nmining.margn=0.3\n");
        assertThat(run("run", "--config", config.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("unknown configuration keys [mining.margn]");
    }

    @Test
    void runWithoutBootstrapServersSaysWhatIsMissing() {
        assertThat(run("run", "--schema-registry-url", "mock://x")).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required configuration \"bootstrap.servers\"");
    }
}
