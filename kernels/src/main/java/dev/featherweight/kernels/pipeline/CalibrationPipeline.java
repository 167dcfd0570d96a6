package dev.featherweight.kernels.pipeline;

import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.formats.hf.HfModules;
import dev.featherweight.kernels.formats.quantized.BlockResult;
import dev.featherweight.kernels.formats.quantized.BlockStore;
import dev.featherweight.kernels.infer.BlockWeights;
import dev.featherweight.kernels.infer.LlamaModel;
import dev.featherweight.kernels.infer.LlamaSession;
import dev.featherweight.kernels.pipeline.modifier.BlockContext;
import dev.featherweight.kernels.pipeline.modifier.QuantizationModifier;
import dev.featherweight.kernels.quant.QuantizedModule;
import dev.featherweight.kernels.quant.Recipe;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Quantizes a model one transformer block at a time with a {@link QuantizationModifier}, knowing no method: the
 * calibration samples' hidden states (samples × seqLen × dim floats) enter block 0; for each block the modifier
 * quantizes it, seeing the block's inputs through {@link BlockContext#forward} (matmul inputs via the forward pass's
 * {@link dev.featherweight.kernels.infer.ActivationObserver}), and the block is run again <em>with its quantized
 * weights</em> to make the next block's inputs. Memory: one block's weights and statistics plus the hidden states,
 * whatever the number of layers.
 *
 * <p>After every block the {@link BlockStore} persists the block's tensors and the next block's inputs; a run
 * over a store that already holds blocks 0 … k continues at k + 1 (the store checks the fingerprint of model,
 * recipe and calibration). A modifier without calibration gets the same loop without forward passes.
 */
public final class CalibrationPipeline {

    /** Progress: called on the calling thread. An exception thrown here aborts the run (after the state is saved when thrown from blockDone). */
    public interface Listener {
        default void moduleDone(int block, int blocks, String module, double seconds, double error) {
        }

        default void blockDone(int block, int blocks, double seconds) {
        }
    }

    /** Per-module error report entry. */
    public record ModuleReport(String module, String format, double error, double seconds) {
    }

    private final LlamaModel model;
    private final Recipe recipe;
    private final QuantizationModifier modifier;
    private final Parallel pool;
    private final Listener listener;
    private final List<ModuleReport> reports = new ArrayList<>();

    /** @param recipe the per-module rules ({@link Recipe#paramsFor}) the modifier sees through {@link BlockContext#paramsFor} */
    public CalibrationPipeline(LlamaModel model, Recipe recipe, QuantizationModifier modifier, Parallel pool, Listener listener) {
        this.model = model;
        this.recipe = recipe;
        this.modifier = modifier;
        this.pool = pool;
        this.listener = listener != null ? listener : new Listener() {
        };
    }

    public List<ModuleReport> reports() {
        return reports;
    }

    /**
     * The heap one block needs, in bytes, for {@code samples} sequences of {@code seqLen} tokens: the modifier's
     * working set as the catalogue computes it (hidden states in and out included; 0 for a modifier without
     * calibration, which streams) — the same figure the quantizer-worker checks against its simulated GPU.
     */
    public static long heapNeeded(QuantizationModifier modifier, LlamaModel.Config c, int samples, int seqLen) {
        if (!modifier.calibrated()) return 0;
        return modifier.blockWorkingSet(c, (long) samples * seqLen);
    }

    /** The full HF module name of a block module. */
    public static String moduleName(int layer, String inferModule) {
        return "model.layers." + layer + "." + HfModules.BY_BLOCK_MODULE.get(inferModule);
    }

    /**
     * Runs every block not yet in the store. {@code samples} are token sequences of equal length (ignored, may be
     * null, for a modifier without calibration).
     */
    public void run(int[][] samples, BlockStore store) {
        LlamaModel.Config c = model.config();
        int layers = c.layers();
        int start = store.lastFinishedBlock() + 1;
        boolean calibrated = modifier.calibrated();
        float[][] hidden = null;
        int seqLen = 0;
        LlamaSession session = null;
        if (calibrated) {
            if (samples == null || samples.length == 0) throw new IllegalArgumentException(recipe.method() + " needs calibration samples (--calibration FILE)");
            seqLen = samples[0].length;
            session = model.newSession(seqLen);
            if (start == 0) {
                hidden = new float[samples.length][];
                for (int s = 0; s < samples.length; s++) hidden[s] = session.embed(samples[s], 0, seqLen);
            } else if (start < layers) {
                hidden = store.loadHidden(start - 1);
            }
        }
        for (int l = start; l < layers; l++) {
            long t0 = System.nanoTime();
            BlockResult r = modifier.quantizeBlock(new Block(l, hidden, session, seqLen));
            float[][] next = null;
            if (calibrated) {
                BlockWeights q = quantizedWeights(model.block(l), r);
                next = new float[hidden.length][];
                for (int s = 0; s < hidden.length; s++) {
                    next[s] = hidden[s].clone();
                    session.forwardBlock(l, next[s], seqLen, 0, q);
                }
                hidden = next;
                session.releaseLayer(l);
            }
            store.saveBlock(r, next);
            listener.blockDone(l, layers, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** The block's weights with every quantized module (as the checkpoint will reconstruct it) and replaced norms. */
    public static BlockWeights quantizedWeights(BlockWeights w, BlockResult r) {
        BlockWeights q = w;
        for (Map.Entry<String, String> e : HfModules.BY_BLOCK_MODULE.entrySet()) {
            QuantizedModule m = r.modules().get(e.getValue());
            if (m != null) q = q.with(e.getKey(), m.matrix());
        }
        return new BlockWeights(r.attnNorm() != null ? r.attnNorm() : q.attnNorm(), q.q(), q.k(), q.v(), q.o(), q.qBias(), q.kBias(),
                r.vBias() != null ? r.vBias() : q.vBias(),
                r.ffnNorm() != null ? r.ffnNorm() : q.ffnNorm(), q.gate(), q.up(), q.down());
    }

    /** One block as its modifier sees it: the model's weights, the inputs (calibrated runs), forward passes and reports. */
    private final class Block implements BlockContext {
        private final int layer;
        private final float[][] hidden;
        private final LlamaSession session;
        private final int seqLen;

        Block(int layer, float[][] hidden, LlamaSession session, int seqLen) {
            this.layer = layer;
            this.hidden = hidden;
            this.session = session;
            this.seqLen = seqLen;
        }

        public int layer() {
            return layer;
        }

        public LlamaModel.Config config() {
            return model.config();
        }

        public BlockWeights weights() {
            return model.block(layer);
        }

        public Parallel pool() {
            return pool;
        }

        public Recipe.ModuleParams paramsFor(String module) {
            return recipe.paramsFor(moduleName(module));
        }

        public String moduleName(String module) {
            return CalibrationPipeline.moduleName(layer, module);
        }

        public int samples() {
            return hidden == null ? 0 : hidden.length;
        }

        public int seqLen() {
            return seqLen;
        }

        public float[][] forward(BlockWeights w, InputObserver observer, String stopAfter, int keepOutputs) {
            requireCalibration();
            int[] sample = {0};
            session.setObserver((l, module, x, n, cols) -> {
                if (l != layer) return;
                observer.onInput(sample[0], module, x, n, cols);
                if (module.equals(stopAfter)) throw InputsCaptured.INSTANCE;
            });
            float[][] kept = new float[Math.min(keepOutputs, hidden.length)][];
            float[] scratch = new float[hidden[0].length];
            try {
                for (int s = 0; s < hidden.length; s++) {
                    sample[0] = s;
                    float[] h = s < kept.length ? hidden[s].clone() : scratch;
                    if (h == scratch) System.arraycopy(hidden[s], 0, scratch, 0, scratch.length);
                    try {
                        session.forwardBlock(layer, h, seqLen, 0, w);
                    } catch (InputsCaptured done) {
                        continue; // expected: the pass has shown what was asked for
                    }
                    if (s < kept.length) kept[s] = h;
                }
            } finally {
                session.setObserver(null);
            }
            return kept;
        }

        public float[] output(int sample, BlockWeights w) {
            requireCalibration();
            float[] h = hidden[sample].clone();
            session.forwardBlock(layer, h, seqLen, 0, w);
            return h;
        }

        public float[] selfAttention(float[] x, BlockWeights w) {
            requireCalibration();
            return session.selfAttention(layer, x, seqLen, 0, w);
        }

        public float[] mlp(float[] x, int nTokens, BlockWeights w) {
            requireCalibration();
            return session.mlp(x, nTokens, w);
        }

        private void requireCalibration() {
            if (hidden == null) throw new IllegalStateException("a modifier without calibration ran a forward pass");
        }

        /** Relative squared error of the module against the reference weights, row by row (no second full copy). */
        public void moduleDone(String module, QuantizedModule q, WeightMatrix reference, long startNanos) {
            WeightMatrix dq = q.matrix();
            int cols = q.cols();
            float[] a = new float[cols], b = new float[cols];
            double e = 0, norm = 0;
            for (int r = 0; r < q.rows(); r++) {
                reference.decodeRow(r, a, 0);
                dq.decodeRow(r, b, 0);
                for (int c = 0; c < cols; c++) {
                    double x = b[c] - a[c];
                    e += x * x;
                    norm += (double) a[c] * a[c];
                }
            }
            double sec = (System.nanoTime() - startNanos) / 1e9;
            double rel = e / Math.max(1e-30, norm);
            String name = moduleName(module);
            reports.add(new ModuleReport(name, q.getClass().getSimpleName(), rel, sec));
            listener.moduleDone(layer, model.config().layers(), name, sec, rel);
        }

        public void stepDone(String what, double seconds, double error) {
            listener.moduleDone(layer, model.config().layers(), what, seconds, error);
        }
    }

    /** Thrown from the observer to end a forward pass once the inputs asked for are seen (no stack trace). */
    private static final class InputsCaptured extends RuntimeException {
        static final InputsCaptured INSTANCE = new InputsCaptured();

        private InputsCaptured() {
            super("inputs captured", null, false, false);
        }
    }
}
