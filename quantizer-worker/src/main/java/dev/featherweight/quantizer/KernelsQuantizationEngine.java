package dev.featherweight.quantizer;

import dev.featherweight.catalog.Catalog;
import dev.featherweight.catalog.ResolvedRecipe;
import dev.featherweight.catalog.methods.AwqMethod;
import dev.featherweight.catalog.methods.Fp4Method;
import dev.featherweight.catalog.methods.GgufMethod;
import dev.featherweight.catalog.methods.GptqMethod;
import dev.featherweight.catalog.methods.LlmInt8Method;
import dev.featherweight.catalog.methods.Nf4Method;
import dev.featherweight.catalog.methods.RtnMethod;
import dev.featherweight.kernels.cli.Fw;
import dev.featherweight.kernels.formats.gguf.GgufModelPlan;
import dev.featherweight.kernels.formats.gguf.HfToGguf;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.quant.gguf.FileType;
import dev.featherweight.kernels.pipeline.LlamaQuantize;
import dev.featherweight.kernels.pipeline.QuantizeJob;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.pipeline.CalibrationPipeline;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The kernels behind the {@link QuantizationEngine} port. GGUF: the kernels API directly, exactly as
 * llama.cpp makes a file (HF folder → F32 plan as convert_hf_to_gguf.py, then the llama-quantize mix:
 * {@link HfToGguf#plan} + {@link LlamaQuantize#quantize}). Other methods: {@code fw quantize --method …} run
 * in-process, so an artifact is by construction what the command line makes; such a recipe is supported
 * when these kernels' {@code fw quantize} has {@code --method}, otherwise the task fails saying so.
 * Progress is reported when the kernels finish (one step); per-block resume needs a kernels API that
 * exposes blocks.
 */
public class KernelsQuantizationEngine implements QuantizationEngine {
    private final Path calibration;

    /** @param calibration the calibration text or token file for GPTQ and AWQ (null: the kernels' default) */
    public KernelsQuantizationEngine(Path calibration) {
        this.calibration = calibration;
    }

    public KernelsQuantizationEngine() {
        this(null);
    }

    static CommandLine.Model.CommandSpec quantizeCommand() {
        CommandLine q = new CommandLine(new Fw()).getSubcommands().get("quantize");
        return q == null ? null : q.getCommandSpec();
    }

    @Override
    public boolean supports(ResolvedRecipe recipe) {
        if (recipe instanceof GgufMethod.Resolved g) {
            try {
                FileType.parse(g.fileType());
                return true;
            } catch (RuntimeException unknownType) {
                return false;
            }
        }
        try {
            kernelsRecipe(recipe);
            return true;
        } catch (RuntimeException notInTheseKernels) {
            return false;
        }
    }

    /** The fw quantize arguments for a recipe (the e2e test runs exactly these to get the expected bytes). */
    public static List<String> arguments(Path modelDir, ResolvedRecipe recipe, Path out) {
        return arguments(modelDir, recipe, out, null);
    }

    public static List<String> arguments(Path modelDir, ResolvedRecipe recipe, Path out, Path calibration) {
        List<String> a = new ArrayList<>(List.of("quantize", "--model", modelDir.toString()));
        switch (recipe) {
            case GgufMethod.Resolved g -> a.addAll(List.of("--format", "gguf", "--type", g.fileType()));
            case RtnMethod.Resolved r -> {
                a.addAll(List.of("--method", "rtn", "--bits", "" + r.bits(), "--group-size", "" + r.groupSize()));
                a.add(r.symmetric() ? "--sym" : "--asym");
            }
            case GptqMethod.Resolved g -> {
                a.addAll(List.of("--method", "gptq", "--bits", "" + g.bits(), "--group-size", "" + g.groupSize(),
                        "--samples", "" + g.calibrationSamples(), "--seq-len", "" + g.calibrationSeqLen()));
                a.add(g.symmetric() ? "--sym" : "--asym");
                if (g.descAct()) a.add("--act-order");
            }
            case AwqMethod.Resolved w -> a.addAll(List.of("--method", "awq", "--bits", "" + w.bits(), "--group-size", "" + w.groupSize(),
                    "--samples", "" + w.calibrationSamples(), "--seq-len", "" + w.calibrationSeqLen()));
            case Nf4Method.Resolved n -> {
                a.addAll(List.of("--method", "nf4", "--group-size", "" + n.blockSize()));
                if (n.doubleQuant()) a.add("--double-quant");
            }
            case Fp4Method.Resolved f -> {
                a.addAll(List.of("--method", "fp4", "--group-size", "" + f.blockSize()));
                if (f.doubleQuant()) a.add("--double-quant");
            }
            case LlmInt8Method.Resolved l -> a.addAll(List.of("--method", "llm-int8"));
            default -> throw new IllegalArgumentException(recipe.method() + ": no fw quantize arguments");
        }
        if (calibration != null && (recipe instanceof GptqMethod.Resolved || recipe instanceof AwqMethod.Resolved))
            a.addAll(List.of("--calibration", calibration.toString()));
        a.addAll(List.of("--out", out.toString()));
        return a;
    }

    /** GGUF: one file named after the model and type; other methods: a folder. */
    public static Path output(Path modelDir, ResolvedRecipe recipe, Path outDir) {
        return recipe instanceof GgufMethod.Resolved g
                ? outDir.resolve(modelDir.getFileName() + "-" + g.fileType().toLowerCase(Locale.ROOT) + ".gguf")
                : outDir.resolve("model");
    }

    /** HF folder → GGUF of a llama-quantize file type, byte-identical to llama.cpp's; written to a temp name, then renamed. */
    public static LlamaQuantize.Result gguf(Path modelDir, String fileType, Path out, int threads) throws Exception {
        Path tmp = out.resolveSibling(out.getFileName() + ".part");
        LlamaQuantize.Result r;
        try (SafetensorsModel weights = SafetensorsModel.open(modelDir)) {
            GgufModelPlan plan = HfToGguf.plan(modelDir, weights, GgmlType.F32);
            r = LlamaQuantize.quantize(plan, FileType.parse(fileType), null, null, tmp, threads, null);
        }
        Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return r;
    }

    /** The kernels' recipe for a platform recipe (GPTQ, AWQ, NF4, FP4, LLM.int8, RTN), by parameter name. */
    static dev.featherweight.kernels.quant.Recipe kernelsRecipe(ResolvedRecipe recipe) {
        java.util.Map<String, Object> v = switch (recipe) {
            case RtnMethod.Resolved r -> java.util.Map.of("bits", r.bits(), "groupSize", r.groupSize(), "symmetric", r.symmetric());
            case GptqMethod.Resolved g -> java.util.Map.of("bits", g.bits(), "groupSize", g.groupSize(), "symmetric", g.symmetric(),
                    "descAct", g.descAct(), "damp", g.damp());
            case AwqMethod.Resolved a -> java.util.Map.of("bits", a.bits(), "groupSize", a.groupSize());
            case Nf4Method.Resolved n -> java.util.Map.of("blockSize", n.blockSize(), "doubleQuant", n.doubleQuant());
            case Fp4Method.Resolved f -> java.util.Map.of("blockSize", f.blockSize(), "doubleQuant", f.doubleQuant());
            case LlmInt8Method.Resolved l -> java.util.Map.of("threshold", l.threshold());
            default -> throw new IllegalArgumentException(recipe.method() + " is not a kernels quant.Recipe");
        };
        return dev.featherweight.kernels.quant.Recipe.of(recipe.method(), v);
    }


    /**
     * RTN, GPTQ, AWQ, NF4, FP4, LLM.int8 through {@link QuantizeJob} — what {@code fw quantize --method} runs —
     * with its per-block work directory under outDir (kept across attempts of the task): a retried task
     * resumes after the last finished block.
     */
    public static QuantizeJob.Result folder(Path modelDir, ResolvedRecipe recipe, Path calibration, Path out, Path workDir, int threads,
                                            CalibrationPipeline.Listener listener) {
        QuantizeJob.Calibration cal = switch (recipe) {
            case GptqMethod.Resolved g -> new QuantizeJob.Calibration(calibration, g.calibrationSamples(), g.calibrationSeqLen(), 0);
            case AwqMethod.Resolved a -> new QuantizeJob.Calibration(calibration, a.calibrationSamples(), a.calibrationSeqLen(), 0);
            default -> null;
        };
        try (Parallel pool = new Parallel(threads)) {
            return QuantizeJob.run(modelDir, kernelsRecipe(recipe), cal, out, workDir, listener, pool);
        }
    }

    @Override
    public Result quantize(Path modelDir, ResolvedRecipe recipe, Path outDir, Progress progress) throws Exception {
        Path out = output(modelDir, recipe, outDir);
        QuantizationEngine.deleteRecursively(out);
        if (recipe instanceof GgufMethod.Resolved g) {
            gguf(modelDir, g.fileType(), out, Math.max(1, Runtime.getRuntime().availableProcessors()));
            progress.block(1, 1, "output");
            return new Result(List.of(outDir.relativize(out).toString()), 0);
        }
        Exception[] progressFailure = {null};
        int[] blocksSeen = {0};
        QuantizeJob.Result r = folder(modelDir, recipe, calibration, out, outDir.resolve(".work"), Math.max(1, Runtime.getRuntime().availableProcessors()),
                new CalibrationPipeline.Listener() {
                    @Override
                    public void blockDone(int block, int blocks, double seconds) {
                        try {
                            blocksSeen[0] = blocks;
                            if (progressFailure[0] == null) progress.block(block + 1, blocks + 1, "blk." + block);
                        } catch (Exception e) {
                            progressFailure[0] = e; // cancelled or superseded: stop at the next block boundary
                            throw new IllegalStateException(e.getMessage(), e);
                        }
                    }
                });
        if (progressFailure[0] != null) throw progressFailure[0];
        progress.block(blocksSeen[0] + 1, blocksSeen[0] + 1, "output"); // (1, 1) when every block was resumed
        List<String> files = new ArrayList<>();
        try (var walk = Files.walk(out)) {
            walk.filter(Files::isRegularFile).map(p -> outDir.relativize(p).toString()).sorted().forEach(files::add);
        }
        return new Result(files, r.resumedFromBlock());
    }

    @Override
    public String version() {
        return "featherweight-kernels " + Catalog.ENGINE_VERSION; // the catalogue's engine version, as GET /api/v1/catalog states it
    }
}
