package dev.featherweight.kernels.pipeline;

import dev.featherweight.kernels.formats.hf.HfModules;
import dev.featherweight.kernels.formats.quantized.QuantizedModelWriter;
import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.formats.OutputLock;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.TensorSource;
import dev.featherweight.kernels.formats.safetensors.SafetensorsFile;
import dev.featherweight.kernels.infer.LlamaModel;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.pipeline.modifier.Modifiers;
import dev.featherweight.kernels.pipeline.modifier.QuantizationModifier;
import dev.featherweight.kernels.quant.Recipe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * One quantization from a Hugging Face folder to a quantized folder: load (mapped), draw calibration samples,
 * run the {@link CalibrationPipeline} into a resumable {@link QuantizedModelWriter}, assemble the folder. What
 * {@code fw quantize --method …} and the quantizer worker call.
 */
public final class QuantizeJob {
    private QuantizeJob() {
    }

    /** Calibration input: a token (*.u32) or text file, and the samples to draw from it. */
    public record Calibration(Path file, int samples, int seqLen, long seed) {
        public static final int DEFAULT_SAMPLES = 128, DEFAULT_SEQ_LEN = 256;
        /** The seed of the sample offsets when none is given: the CLI and the quantizer-worker draw the same samples. */
        public static final long DEFAULT_SEED = 42;
    }

    /**
     * @param linearBytes   bytes of the block linear layers as stored (quantized tensors or kept floats)
     * @param linearWeights number of weights in those layers
     */
    public record Result(Path out, long fileBytes, long linearBytes, long linearWeights, double seconds, int resumedFromBlock,
                         List<CalibrationPipeline.ModuleReport> modules) {
        public double bitsPerWeight() {
            return 8.0 * linearBytes / linearWeights;
        }
    }

    /**
     * Refuses a run whose one-block working set cannot fit in this JVM's heap (with 10 % left for the rest): a calibrated
     * method's as its modifier states it; a weight-only method's is the block's weights as floats and their codes plus
     * one module's float copy, bounded by 9 bytes per block weight.
     */
    static void checkHeap(Path model, LlamaModel.Config c, Recipe recipe, QuantizationModifier modifier, int samples, int seqLen) {
        long need = modifier.calibrated() ? CalibrationPipeline.heapNeeded(modifier, c, samples, seqLen) : 9 * blockWeights(c);
        long max = Runtime.getRuntime().maxMemory();
        if (max != Long.MAX_VALUE && need > max * 0.9) {
            long widest = Math.max(c.dim(), c.ffnDim());
            String calibration = modifier.calibrated() ? String.format(Locale.ROOT, " with %d samples × %d tokens", samples, seqLen) : "";
            String hessian = modifier.calibrated() ? String.format(Locale.ROOT, "; the largest Hessian alone is %d MB", widest * widest * 4 >> 20) : "";
            throw new InsufficientHeapException(String.format(Locale.ROOT,
                    "%s: %s%s needs about %d MB of heap for one block (hidden %d, MLP %d%s), this JVM has %d MB: raise -Xmx (FW_JAVA_OPTS"
                            + " for fw) to at least %d MB%s",
                    model, recipe.method(), calibration, need >> 20, c.dim(), c.ffnDim(), hessian, max >> 20, (long) (need / 0.9) >> 20,
                    modifier.calibrated() ? " or use fewer samples or a shorter --seq-len" : ""), (long) (need / 0.9));
        }
    }

    private static long blockWeights(LlamaModel.Config c) {
        return (long) c.dim() * (2L * c.qDim() + 2L * c.kvDim()) + 3L * c.dim() * c.ffnDim();
    }

    /** The resume folder of a run writing {@code out} when no --work-dir is given: kept when the run fails. */
    public static Path defaultWorkDir(Path out) {
        return out.resolveSibling("." + out.getFileName() + ".work");
    }

    public static Result run(Path model, Recipe recipe, Calibration cal, Path out, Path workDir, CalibrationPipeline.Listener listener, Parallel pool) {
        long t0 = System.nanoTime();
        if (!Files.isDirectory(model)) throw new FormatException(model, null, "quantization needs a Hugging Face model folder");
        try (LoadedModel lm = ModelLoader.open(model, null, pool)) {
            TensorSource src = lm.model().source();
            int layers = lm.model().config().layers();
            QuantizedModelWriter.checkPackable(src, layers, recipe);
            QuantizationModifier modifier = Modifiers.of(recipe);
            int[][] samples = null;
            if (modifier.calibrated()) {
                if (cal == null || cal.file() == null) throw new IllegalArgumentException(recipe.method() + " needs --calibration FILE");
                int[] tokens = CalibrationData.tokens(cal.file(), lm::encode);
                samples = CalibrationData.sample(tokens, cal.samples(), cal.seqLen(), cal.seed(), lm.model().config().bosId());
                checkHeap(model, lm.model().config(), recipe, modifier, samples.length, cal.seqLen());
            } else {
                checkHeap(model, lm.model().config(), recipe, modifier, 0, 0);
            }
            String fp = QuantizedModelWriter.fingerprint(model, src, recipe, samples);
            Path wd = workDir != null ? workDir : defaultWorkDir(out);
            int resumed;
            CalibrationPipeline p;
            // the model passed its check (ModelLoader); from here on this run alone writes --out and its work folder
            try (OutputLock lock = OutputLock.acquire(out)) {
                if (Files.isDirectory(out)) {
                    try (var s = Files.list(out)) {
                        if (s.findAny().isPresent()) throw new FormatException(FormatException.Kind.IO, out, null, "output folder exists and is not empty");
                    }
                }
                QuantizedModelWriter writer = new QuantizedModelWriter(model, src, layers, recipe, wd, fp);
                resumed = writer.lastFinishedBlock() + 1;
                p = new CalibrationPipeline(lm.model(), recipe, modifier, pool, listener);
                p.run(samples, writer);
                writer.finish(out);
                if (workDir == null) QuantizedModelWriter.deleteTree(wd);
            }
            long fileBytes = 0;
            try (var s = Files.list(out)) {
                for (Path f : s.toList()) fileBytes += Files.size(f);
            }
            long linBytes = 0, linWeights = 0;
            try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
                for (String n : f.names()) {
                    if (!n.startsWith("model.layers.") || n.endsWith("layernorm.weight") || n.endsWith(".bias")) continue;
                    Tensor t = f.tensor(n);
                    linBytes += t.data().byteSize();
                }
                for (int l = 0; l < layers; l++) {
                    for (String m : HfModules.BY_BLOCK_MODULE.values()) {
                        Tensor t = src.tensor("model.layers." + l + "." + m + ".weight");
                        linWeights += t.elements();
                    }
                }
            }
            return new Result(out, fileBytes, linBytes, linWeights, (System.nanoTime() - t0) / 1e9, resumed, p.reports());
        } catch (IOException e) {
            throw new FormatException(out, null, e.getMessage(), e);
        }
    }
}
