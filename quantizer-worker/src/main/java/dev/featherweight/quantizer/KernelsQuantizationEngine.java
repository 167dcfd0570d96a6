package dev.featherweight.quantizer;

import dev.featherweight.worker.WorkDirs;
import dev.featherweight.catalog.Catalog;
import dev.featherweight.catalog.ResolvedRecipe;
import dev.featherweight.catalog.methods.GgufMethod;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.formats.gguf.GgufModelPlan;
import dev.featherweight.kernels.formats.gguf.ImportanceMatrix;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.infer.Numerics;
import dev.featherweight.kernels.pipeline.ImatrixCollector;
import dev.featherweight.kernels.formats.gguf.HfToGguf;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.pipeline.CalibrationPipeline;
import dev.featherweight.kernels.pipeline.InsufficientHeapException;
import dev.featherweight.kernels.pipeline.LlamaQuantize;
import dev.featherweight.kernels.pipeline.QuantizeJob;
import dev.featherweight.kernels.quant.QuantizationParams;
import dev.featherweight.kernels.quant.gguf.FileType;
import dev.featherweight.worker.TaskFailure;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The kernels behind the {@link QuantizationEngine} port, called as an API (never through the {@code fw} command
 * line). GGUF: HF folder → F32 plan as convert_hf_to_gguf.py, then the llama-quantize mix ({@link HfToGguf#plan} +
 * {@link LlamaQuantize#quantize}), byte-identical to llama.cpp. Other methods: the recipe's fields by name become
 * the kernels' typed parameters ({@link QuantizationParams#of}, as {@code fw quantize --method} builds them from its
 * options; the recipe arrives resolved by the catalogue, every default filled) and {@link QuantizeJob} runs the calibration pipeline, reporting each finished block; its work folder
 * under outDir survives a failed attempt, so a retried task resumes after the last finished block. Failures that
 * another attempt would repeat — a recipe the kernels cannot run, a working set larger than the heap — are reported
 * as not retryable.
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
        } catch (IllegalArgumentException notInTheseKernels) {
            return false;
        }
    }

    /** GGUF: one file named after the model and type; other methods: a folder. */
    public static Path output(Path modelDir, ResolvedRecipe recipe, Path outDir) {
        return recipe instanceof GgufMethod.Resolved g
                ? outDir.resolve(modelDir.getFileName() + "-" + g.fileType().toLowerCase(Locale.ROOT) + ".gguf")
                : outDir.resolve("model");
    }

    /** HF folder → GGUF of a llama-quantize file type, byte-identical to llama.cpp's; written to a temp name, then renamed. */
    public static LlamaQuantize.Result gguf(Path modelDir, String fileType, Path out, int threads) throws Exception {
        return gguf(modelDir, fileType, null, out, threads);
    }

    /**
     * The same with an importance matrix when {@code imatrixText} is given: computed first over that calibration text
     * as {@code fw imatrix} does by default (llama-imatrix: chunks of 512 tokens, llama.cpp's rounding with an f16 KV
     * cache), then used as llama-quantize --imatrix uses it.
     */
    public static LlamaQuantize.Result gguf(Path modelDir, String fileType, Path imatrixText, Path out, int threads) throws Exception {
        Path tmp = out.resolveSibling(out.getFileName() + ".part");
        ImportanceMatrix imatrix = null;
        if (imatrixText != null) {
            try (Parallel pool = new Parallel(threads); LoadedModel m = ModelLoader.open(modelDir, null, pool)) {
                int[] tokens = m.encode(Files.readString(imatrixText));
                imatrix = ImatrixCollector.compute(m.model(), tokens, 512, -1, imatrixText.getFileName().toString(),
                        Numerics.parse("llamacpp-kvf16"), done -> { });
            }
        }
        LlamaQuantize.Result r;
        try (SafetensorsModel weights = SafetensorsModel.open(modelDir)) {
            GgufModelPlan plan = HfToGguf.plan(modelDir, weights, GgmlType.F32);
            r = LlamaQuantize.quantize(plan, FileType.parse(fileType), imatrix, imatrix == null ? null : imatrixText.getFileName().toString(),
                    tmp, threads, null);
        }
        Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return r;
    }

    /** The kernels' recipe (typed parameters of the method) for a resolved recipe, by parameter name; IllegalArgumentException when the kernels cannot run it. */
    static dev.featherweight.kernels.quant.Recipe kernelsRecipe(ResolvedRecipe recipe) {
        return dev.featherweight.kernels.quant.Recipe.of(recipe.method(), recipe.parameters());
    }

    /** Calibration input for a calibrated method: the recipe's sample count and length over the engine's calibration file, with the seed `fw quantize` uses, so the platform's artifact is the CLI's. */
    static QuantizeJob.Calibration calibration(ResolvedRecipe recipe, Path file) {
        Map<String, Object> p = recipe.parameters();
        return new QuantizeJob.Calibration(file, ((Number) p.getOrDefault("calibrationSamples", QuantizeJob.Calibration.DEFAULT_SAMPLES)).intValue(),
                ((Number) p.getOrDefault("calibrationSeqLen", QuantizeJob.Calibration.DEFAULT_SEQ_LEN)).intValue(), QuantizeJob.Calibration.DEFAULT_SEED);
    }

    /**
     * RTN, GPTQ, AWQ, NF4, FP4, LLM.int8 through {@link QuantizeJob} with its per-block work directory (kept across
     * attempts of the task): a retried task resumes after the last finished block.
     */
    public QuantizeJob.Result folder(Path modelDir, ResolvedRecipe recipe, Path out, Path workDir, int threads, CalibrationPipeline.Listener listener) {
        try (Parallel pool = new Parallel(threads)) {
            return QuantizeJob.run(modelDir, kernelsRecipe(recipe), calibration(recipe, calibration), out, workDir, listener, pool);
        }
    }

    @Override
    public Result quantize(Path modelDir, ResolvedRecipe recipe, Path outDir, Progress progress) throws Exception {
        Path out = output(modelDir, recipe, outDir);
        WorkDirs.deleteTree(out);
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        if (recipe instanceof GgufMethod.Resolved g) {
            try {
                if (g.imatrix() && calibration == null) {
                    throw new IllegalArgumentException("gguf " + g.fileType() + " with imatrix needs the worker's calibration text (FW_CALIBRATION)");
                }
                gguf(modelDir, g.fileType(), g.imatrix() ? calibration : null, out, threads);
            } catch (RuntimeException e) {
                throw classified(recipe, e);
            }
            progress.block(1, 1, "output");
            return new Result(List.of(outDir.relativize(out).toString()), 0);
        }
        Exception[] progressFailure = {null};
        int[] blocksSeen = {0};
        QuantizeJob.Result r;
        try {
            r = folder(modelDir, recipe, out, outDir.resolve(".work"), threads, new CalibrationPipeline.Listener() {
                @Override
                public void blockDone(int block, int blocks, double seconds) {
                    try {
                        blocksSeen[0] = blocks;
                        progress.block(block + 1, blocks + 1, "blk." + block);
                    } catch (Exception e) {
                        progressFailure[0] = e; // cancelled or superseded: stop at this block boundary (its state is saved)
                        throw new ProgressStopped(e);
                    }
                }
            });
        } catch (ProgressStopped stopped) {
            throw progressFailure[0];
        } catch (RuntimeException e) {
            throw classified(recipe, e);
        }
        progress.block(blocksSeen[0] + 1, blocksSeen[0] + 1, "output"); // (1, 1) when every block was resumed
        List<String> files = new ArrayList<>();
        try (var walk = Files.walk(out)) {
            walk.filter(Files::isRegularFile).map(p -> outDir.relativize(p).toString()).sorted().forEach(files::add);
        }
        return new Result(files, r.resumedFromBlock());
    }

    /**
     * A kernels failure as the task's failure: a recipe or calibration the kernels refuse (IllegalArgumentException)
     * and a working set larger than the heap fail the same way on every attempt, so they are final. A model the
     * kernels refuse (FormatException) goes to {@link QuantizeHandler}, which judges it by its kind; anything else
     * (out of memory, I/O) may pass on another attempt.
     */
    static Exception classified(ResolvedRecipe recipe, RuntimeException e) {
        boolean deterministic = e instanceof IllegalArgumentException || e instanceof InsufficientHeapException;
        return deterministic ? new TaskFailure(recipe.label() + ": " + e.getMessage(), false, e) : e;
    }

    /** Carries a progress callback's exception (cancellation) out of the pipeline. */
    private static final class ProgressStopped extends RuntimeException {
        ProgressStopped(Exception cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }

    @Override
    public String version() {
        return "featherweight-kernels " + Catalog.ENGINE_VERSION; // the catalogue's engine version, as GET /api/v1/catalog states it
    }
}
