package dev.featherweight.kernels.pipeline;

import dev.featherweight.kernels.core.FloatArrayMatrix;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.formats.gguf.GgufModelPlan;
import dev.featherweight.kernels.formats.gguf.ImportanceMatrix;
import dev.featherweight.kernels.infer.BlockWeights;
import dev.featherweight.kernels.infer.LlamaModel;
import dev.featherweight.kernels.infer.LlamaSession;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodec;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodecs;

import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.formats.gguf.HfToGguf;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Puts the tensors' errors of {@link BudgetMix#measure} on one scale: the model's output.
 *
 * <p>Why: the weighted squared error of a layer's output is comparable between the types of one tensor, not between
 * tensors — an error in ffn_down's or attn_v's output moves the logits far more than the same error in attn_q's or
 * attn_k's (feather-3m, imatrix-weighted errors alone: the allocation starved ffn_down and attn_output, and its
 * perplexity at Q4_K_M's size was 6.333 against Q4_K_M's 6.169). So each tensor is quantized once to a probe type, the model runs on
 * calibration tokens with only that tensor replaced, and the logits' change is measured as the second-order
 * (Fisher) expansion of the KL divergence, ½·Var_p(Δlogit) per token. The tensor's sensitivity is that divergence
 * per unit of its measured error; every option's error is multiplied by it, so the allocation minimizes the sum of
 * the tensors' predicted divergences (additive to first order, as in HAWQ / llama.cpp's own per-tensor studies).
 * Cost: one forward pass per quantizable tensor from its layer on, over the calibration tokens.
 */
public final class MixSensitivity {
    private static final Pattern BLOCK_TENSOR = Pattern.compile("blk\\.(\\d+)\\.([a-z_]+)\\.weight");

    /** Calibration tokens the probes run on (one sequence from the start of the calibration text). */
    public static final int CALIBRATION_TOKENS = 256;

    private MixSensitivity() {
    }

    /**
     * {@link BudgetMix#measure} then {@link #calibrate} on the first {@link #CALIBRATION_TOKENS} tokens of a calibration
     * text: the model is read in GGUF layout (an HF folder is converted to a temporary F32 GGUF first).
     */
    public static List<BudgetMix.TensorOptions> measure(Path model, GgufModelPlan plan, ImportanceMatrix imatrix, Path calibrationText,
                                                        List<GgmlType> candidates, int threads) throws IOException {
        List<BudgetMix.TensorOptions> measured = BudgetMix.measure(plan, imatrix, candidates, threads);
        Path gguf = model;
        Path tokenizer = null;
        boolean temporary = Files.isDirectory(model);
        if (temporary) {
            gguf = Files.createTempFile("fw-mix-", ".gguf");
            HfToGguf.convert(model, GgmlType.F32, gguf);
            tokenizer = model;
        }
        try (Parallel pool = new Parallel(threads);
             LoadedModel lm = ModelLoader.open(gguf, tokenizer, pool)) {
            int[] ids = lm.encode(Files.readString(calibrationText));
            int[] tokens = Arrays.copyOf(ids, Math.min(ids.length, CALIBRATION_TOKENS));
            return calibrate(measured, plan, lm.model(), imatrix, tokens, threads);
        } finally {
            if (temporary) Files.deleteIfExists(gguf);
        }
    }

    /**
     * The options with every error scaled by its tensor's measured sensitivity.
     *
     * @param model  the same weights as {@code plan}, with GGUF tensor layout (a GGUF file's model: Q/K rows as the plan has them)
     * @param tokens calibration tokens, at most the model's context
     */
    public static List<BudgetMix.TensorOptions> calibrate(List<BudgetMix.TensorOptions> measured, GgufModelPlan plan, LlamaModel model,
                                                          ImportanceMatrix imatrix, int[] tokens, int threads) {
        int n = tokens.length;
        LlamaSession s = model.newSession(n);
        int layers = model.config().layers();
        float[][] before = new float[layers + 1][];
        float[] h = s.embed(tokens, 0, n);
        float[] embedded = h.clone();
        for (int l = 0; l < layers; l++) {
            before[l] = h.clone();
            s.forwardBlock(l, h, n, 0);
        }
        float[] base = s.logits(h, n, 0);
        int vocab = model.config().vocab();
        List<BudgetMix.TensorOptions> out = new ArrayList<>();
        for (BudgetMix.TensorOptions g : measured) {
            BudgetMix.Option probe = probe(g);
            GgufModelPlan.SourceTensor t = plan.tensor(g.name());
            float[] importance = imatrix == null ? null : imatrix.weights(g.name());
            float[] q = roundTrip(t, probe.type(), importance, threads);
            float[] logits;
            Matcher m = BLOCK_TENSOR.matcher(g.name());
            if (m.matches()) {
                int layer = Integer.parseInt(m.group(1));
                BlockWeights w = model.block(layer).with(m.group(2), new FloatArrayMatrix(q, (int) t.rowCount(), (int) t.rowLength(), "F32"));
                float[] x = before[layer].clone();
                s.forwardBlock(layer, x, n, 0, w);
                for (int l = layer + 1; l < layers; l++) s.forwardBlock(l, x, n, 0);
                logits = s.logits(x, n, 0);
            } else if (g.name().equals("token_embd.weight")) {
                float[] x = embedded.clone();
                int dim = (int) t.rowLength();
                float[] row = new float[dim];
                for (int i = 0; i < n; i++) {
                    t.rows().read(tokens[i], row);
                    for (int j = 0; j < dim; j++) x[i * dim + j] += q[tokens[i] * dim + j] - row[j];
                }
                for (int l = 0; l < layers; l++) s.forwardBlock(l, x, n, 0);
                logits = s.logits(x, n, 0);
            } else {
                out.add(g);
                continue;
            }
            double divergence = fisher(base, logits, n, vocab);
            double perError = probe.error() > 0 ? divergence / probe.error() : 0;
            out.add(new BudgetMix.TensorOptions(g.name(), g.options().stream()
                    .map(o -> new BudgetMix.Option(o.type(), o.bytes(), o.error() * perError)).toList()));
        }
        return out;
    }

    /** The probe: Q4_K when it is an option (a perturbation small enough for the expansion, large enough above rounding noise), else the middle one. */
    private static BudgetMix.Option probe(BudgetMix.TensorOptions g) {
        for (BudgetMix.Option o : g.options()) if (o.type() == GgmlType.Q4_K) return o;
        return g.options().get(g.options().size() / 2);
    }

    /** The whole tensor quantized as the file would hold it and decoded back (rows × cols floats). */
    private static float[] roundTrip(GgufModelPlan.SourceTensor t, GgmlType type, float[] importance, int threads) {
        int cols = (int) t.rowLength(), rows = (int) t.rowCount();
        float[] w = new float[rows * cols];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            t.rows().read(r, row);
            System.arraycopy(row, 0, w, r * cols, cols);
        }
        GgufBlockCodec codec = GgufBlockCodecs.of(type);
        long rowBytes = codec.rowBytes(cols);
        MemorySegment qs = MemorySegment.ofArray(new byte[Math.toIntExact(rowBytes * rows)]);
        GgufBlockCodecs.quantizeRows(codec, w, 0, rows, cols, qs, 0, importance, threads);
        for (int r = 0; r < rows; r++) codec.dequantizeRow(qs, r * rowBytes, w, r * cols, cols);
        return w;
    }

    /** Mean over tokens of ½·Var_p(Δlogit), p = softmax of the base logits: the KL divergence to second order. */
    static double fisher(float[] base, float[] other, int n, int vocab) {
        double total = 0;
        for (int t = 0; t < n; t++) {
            int off = t * vocab;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < vocab; i++) max = Math.max(max, base[off + i]);
            double z = 0, mean = 0, sq = 0;
            for (int i = 0; i < vocab; i++) z += Math.exp(base[off + i] - max);
            for (int i = 0; i < vocab; i++) {
                double p = Math.exp(base[off + i] - max) / z;
                double d = other[off + i] - base[off + i];
                mean += p * d;
                sq += p * d * d;
            }
            total += 0.5 * (sq - mean * mean);
        }
        return total / n;
    }
}
