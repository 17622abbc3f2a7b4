package dev.hardmine.cli;

import dev.hardmine.replay.ReplayException;
import java.util.OptionalInt;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar hardmine.jar <command>}: the entry point. */
@Command(name = "hardmine", mixinStandardHelpOptions = true, version = "hardmine 0.1.0",
        description = "Streaming online mining of hard and semi-hard triplets for metric learning, on Kafka.",
        subcommands = {DemoCommand.class, RunCommand.class, ReplayCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class HardmineCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    /** Builds the command line with hardmine's error handling: one line on stderr, exit 1 (2 for usage). */
    public static CommandLine commandLine() {
        CommandLine cmd = new CommandLine(new HardmineCommand());
        // A usage mistake: one line saying what is wrong, then the command's usage; exit code 2.
        cmd.setParameterExceptionHandler((ex, args) -> {
            CommandLine where = ex.getCommandLine();
            where.getErr().println(ex.getMessage());
            where.usage(where.getErr());
            return CommandLine.ExitCode.USAGE;
        });
        cmd.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            String message = ex instanceof ReplayException ? ex.getMessage()
                    : ex.getMessage() == null ? ex.toString() : ex.getMessage();
            commandLine.getErr().println("hardmine " + commandLine.getCommandName() + ": error: " + message);
            return 1;
        });
        return cmd;
    }

    /** Runs the command, in a second JVM when that gives it faster kernels ({@link Launcher}). */
    public static void main(String[] args) {
        Launcher.watchLauncher();
        OptionalInt inChild = Launcher.runInChild(args);
        System.exit(inChild.isPresent() ? inChild.getAsInt() : commandLine().execute(args));
    }
}
