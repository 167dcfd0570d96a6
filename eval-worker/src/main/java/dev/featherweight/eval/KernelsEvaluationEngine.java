package dev.featherweight.eval;

import dev.featherweight.kernels.cli.Fw;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Perplexity through the kernels' {@code fw perplexity --json} run in-process (so the platform reports
 * exactly what the command line reports), capacity from {@link BasicEvaluationEngine}. Perplexity is
 * supported when these kernels have the command.
 */
public class KernelsEvaluationEngine extends BasicEvaluationEngine {

    static boolean hasPerplexity() {
        CommandLine p = new CommandLine(new Fw()).getSubcommands().get("perplexity");
        return p != null && p.getCommandSpec().findOption("--json") != null;
    }

    /** A model folder as is; an artifact folder holding one .gguf file → that file; holding "model/" → that folder. */
    static Path modelPath(Path dir) throws Exception {
        if (Files.exists(dir.resolve("config.json"))) return dir;
        try (var s = Files.list(dir)) {
            List<Path> ggufs = s.filter(p -> p.toString().endsWith(".gguf")).toList();
            if (ggufs.size() == 1) return ggufs.getFirst();
        }
        if (Files.isDirectory(dir.resolve("model"))) return dir.resolve("model");
        throw new IllegalArgumentException(dir + " holds neither a model folder nor one .gguf file");
    }

    @Override
    public boolean supportsPerplexity(Path model) {
        return hasPerplexity();
    }

    @Override
    public double perplexity(Path model, Path text, int ctx, int chunks) throws Exception {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new Fw());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        cl.setExecutionExceptionHandler((ex, cmd, parse) -> {
            err.append(ex.toString());
            return 1;
        });
        String[] args = chunks > 0
                ? new String[]{"perplexity", "--model", modelPath(model).toString(), "--text", text.toString(), "--ctx", "" + ctx, "--chunks", "" + chunks, "--json"}
                : new String[]{"perplexity", "--model", modelPath(model).toString(), "--text", text.toString(), "--ctx", "" + ctx, "--json"};
        int code = cl.execute(args);
        if (code != 0) throw new IllegalStateException("fw perplexity exited " + code + ": " + err.toString().strip());
        JsonNode json = JsonMapper.shared().readTree(out.toString());
        if (!json.has("perplexity")) throw new IllegalStateException("fw perplexity --json printed no perplexity: " + out);
        return json.path("perplexity").asDouble();
    }

    @Override
    public String version() {
        return "featherweight-kernels (" + Fw.class.getAnnotation(CommandLine.Command.class).version()[0] + ")";
    }
}
