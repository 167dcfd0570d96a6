package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.pipeline.InsufficientHeapException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code fw} command: the kernels engine without the platform. Every subcommand prints only its
 * result on stdout (a table, or one JSON object with --json); errors go to stderr with a non-zero exit.
 */
@Command(name = "fw", mixinStandardHelpOptions = true, version = "Featherweight 0.1.0",
        description = "Make large language models lighter: inspect, quantize, evaluate, size.",
        subcommands = {
                CommandLine.HelpCommand.class,
                PerplexityCommand.class,
                KldCommand.class,
                HellaSwagCommand.class,
                HellaSwagCommand.Generate.class,
                GenerateCommand.class,
                SynthCommand.class,
                CapacityCommand.class,
                CatalogCommand.class,
                SimulateCommand.class,
                InspectCommand.class,
                QuantizeCommand.class,
                RecommendCommand.class,
                ImatrixCommand.class,
                BenchCommand.class,
        })
public final class Fw {
    /**
     * Exit code of a run refused for want of heap when bin/fw asked to restart it ({@code FW_HEAP_RESTART_FILE} set):
     * the -Xmx the job needs, in MB, is written to that file instead of the error being printed.
     */
    static final int HEAP_RESTART_EXIT = 75;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Fw());
        cl.setExecutionExceptionHandler((ex, cmd, parse) -> {
            String restartFile = System.getenv("FW_HEAP_RESTART_FILE");
            if (ex instanceof InsufficientHeapException ih && restartFile != null) {
                Files.writeString(Path.of(restartFile), Long.toString((ih.heapNeeded() >> 20) + 1));
                return HEAP_RESTART_EXIT;
            }
            // A typed, named error is the whole message a user needs; only unexpected ones get a trace.
            cmd.getErr().println(errorLine(cmd.getCommandName(), ex));
            if (!(ex instanceof RuntimeException) || System.getenv("FW_DEBUG") != null) ex.printStackTrace(cmd.getErr());
            cmd.getErr().flush();
            return 1;
        });
        return cl.execute(args);
    }

    /**
     * The one line printed for a failure: {@code fw quantize: [missing-tensor] FILE: tensor 'NAME': problem}. Printable
     * whatever the input held (a raw byte of a damaged file would otherwise make the line look binary), never split.
     */
    static String errorLine(String command, Throwable ex) {
        String message = ex.getMessage() == null ? ex.getClass().getName() : ex.getMessage();
        String kind = ex instanceof FormatException fe ? "[" + fe.kind().label() + "] " : "";
        return FormatException.printable("fw " + command + ": " + kind + message);
    }
}
