package dev.featherweight.kernels.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code fw} command: the kernels engine without the platform. Every subcommand prints only its
 * result on stdout (a table, or one JSON object with --json); errors go to stderr with a non-zero exit.
 */
@Command(name = "fw", mixinStandardHelpOptions = true, version = "Featherweight 0.1.0",
        description = "Make large language models lighter: inspect, quantize, evaluate, size.",
        subcommands = {
                CommandLine.HelpCommand.class,
                PerplexityCommand.class,
                GenerateCommand.class,
                SynthCommand.class,
                CapacityCommand.class,
                CatalogCommand.class,
                SimulateCommand.class,
                InspectCommand.class,
                QuantizeCommand.class,
                ImatrixCommand.class,
        })
public final class Fw {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Fw());
        cl.setExecutionExceptionHandler((ex, cmd, parse) -> {
            // A typed, named error is the whole message a user needs; only unexpected ones get a trace.
            cmd.getErr().println("fw " + cmd.getCommandName() + ": " + ex.getMessage());
            if (!(ex instanceof RuntimeException) || System.getenv("FW_DEBUG") != null) ex.printStackTrace(cmd.getErr());
            return 1;
        });
        return cl.execute(args);
    }
}
