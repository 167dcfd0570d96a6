package dev.featherweight.kernels.pipeline;

import dev.featherweight.kernels.formats.gguf.ImportanceMatrix;
import dev.featherweight.kernels.infer.ActivationObserver;
import dev.featherweight.kernels.infer.LlamaModel;
import dev.featherweight.kernels.infer.LlamaSession;
import dev.featherweight.kernels.infer.Numerics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * What llama-imatrix computes (examples/imatrix/imatrix.cpp): for every matmul weight, the sum over the
 * calibration tokens of each input column's square, accumulated in float token by token in the order
 * the tokens run, with a per-column token count and one "call" per forward pass; saved as
 * (sum / count) × ncall. The output matmul is left out, as llama-imatrix does without --process-output.
 *
 * <p>Calibration protocol of {@link #compute}: the whole text tokenized with BOS, cut into chunks of
 * n_ctx tokens, the first token of each chunk replaced by BOS when the model adds one, each chunk run
 * from an empty cache.
 */
public final class ImatrixCollector implements ActivationObserver {
    private static final class Stat {
        final float[] values;
        long count;
        int ncall;

        Stat(int cols) {
            values = new float[cols];
        }
    }

    private final Map<String, Stat> stats = new LinkedHashMap<>();

    @Override
    public void onMatmulInput(int layer, String module, float[] x, int nTokens, int cols) {
        if (layer < 0) return; // output.weight: not collected (llama-imatrix without --process-output)
        Stat s = stats.computeIfAbsent("blk." + layer + "." + module + ".weight", k -> new Stat(cols));
        if (s.values.length != cols) throw new IllegalStateException(module + " of layer " + layer + " changed width " + s.values.length + " → " + cols);
        float[] v = s.values;
        for (int t = 0; t < nTokens; t++) {
            int o = t * cols;
            for (int j = 0; j < cols; j++) v[j] += x[o + j] * x[o + j];
        }
        s.count += nTokens;
        s.ncall++;
    }

    /** The collected matrix in llama-imatrix's stored form. */
    public ImportanceMatrix result(int chunks, String dataset) {
        Map<String, float[]> entries = new LinkedHashMap<>();
        Map<String, Integer> ncalls = new LinkedHashMap<>();
        stats.forEach((name, s) -> {
            float[] out = new float[s.values.length];
            for (int i = 0; i < out.length; i++) out[i] = (s.values[i] / (float) s.count) * (float) s.ncall;
            entries.put(name, out);
            ncalls.put(name, s.ncall);
        });
        return new ImportanceMatrix(entries, ncalls, chunks, dataset);
    }

    /**
     * Runs the calibration tokens through the model chunk by chunk.
     *
     * @param tokens   the whole text's tokens (BOS first when the model adds one)
     * @param chunks   at most this many chunks (≤ 0: all whole chunks)
     * @param progress called with the number of chunks done, may be null
     */
    public static ImportanceMatrix compute(LlamaModel model, int[] tokens, int nCtx, int chunks, String dataset, IntConsumer progress) {
        return compute(model, tokens, nCtx, chunks, dataset, Numerics.LLAMACPP_KV_F16, progress);
    }

    /**
     * As {@link #compute(LlamaModel, int[], int, int, String, IntConsumer)} with explicit numerics; the default is
     * llama-imatrix's own: llama.cpp's CPU rounding with its default f16 KV cache, which moves the attention
     * outputs (the attn_output inputs) by a few 1e-4 relative against a pure FP32 pass.
     */
    public static ImportanceMatrix compute(LlamaModel model, int[] tokens, int nCtx, int chunks, String dataset, Numerics numerics,
                                           IntConsumer progress) {
        int available = tokens.length / nCtx;
        if (available < 1) throw new IllegalArgumentException("the text has " + tokens.length + " tokens, fewer than one chunk of " + nCtx);
        int n = chunks > 0 ? Math.min(chunks, available) : available;
        ImatrixCollector c = new ImatrixCollector();
        LlamaSession session = model.newSession(nCtx);
        session.setObserver(c);
        session.setNumerics(numerics);
        int[] chunk = new int[nCtx];
        for (int i = 0; i < n; i++) {
            System.arraycopy(tokens, i * nCtx, chunk, 0, nCtx);
            if (model.config().addBos()) chunk[0] = model.config().bosId();
            float[] h = session.embed(chunk, 0, nCtx);
            for (int l = 0; l < model.config().layers(); l++) session.forwardBlock(l, h, nCtx, 0);
            if (progress != null) progress.accept(i + 1);
        }
        return c.result(n, dataset);
    }
}
