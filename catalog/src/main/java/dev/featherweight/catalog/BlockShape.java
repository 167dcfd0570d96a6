package dev.featherweight.catalog;

import dev.featherweight.catalog.capacity.ModelShape;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The seven linear modules of one Llama block (q, k, v, o, gate, up, down) as rows × cols, and the working
 * sets and work the methods' estimates share. The one place these formulas live: the kernels' heap check,
 * the quantizer-worker's simulated GPU and the gateway's pre-flight all call it.
 */
public record BlockShape(long hidden, long ffn, long qDim, long kvDim) {
    public static BlockShape of(ModelShape s) {
        return new BlockShape(s.hidden(), s.ffn(), s.qDim(), s.kvDim());
    }

    /** The bytes of a working set's named parts together (what a peak is). */
    public static long total(Map<String, Long> parts) {
        return parts.values().stream().mapToLong(Long::longValue).sum();
    }

    /** rows (output features), cols (input features) of q, k, v, o, gate, up, down. */
    public long[][] modules() {
        return new long[][]{{qDim, hidden}, {kvDim, hidden}, {kvDim, hidden}, {hidden, qDim}, {ffn, hidden}, {ffn, hidden}, {hidden, ffn}};
    }

    public long weights() {
        long n = 0;
        for (long[] m : modules()) n += m[0] * m[1];
        return n;
    }

    /** Calibration hidden states in and out of the block, fp32 (the CPU engine's activations). */
    public long calibrationHiddenBytes(long tokens) {
        return 2 * tokens * hidden * 4;
    }

    /**
     * GPTQ's peak while it works module by module: the calibration hidden states, plus at the worst module its
     * Hessians (one d_in × d_in fp32 per input; q/k/v and gate/up keep a second one for the act-order / damping
     * copy), its weights as fp32 and fp16, and the codes of the modules already done. Measured on a
     * Llama-2-7B-shaped block with 16 × 256 tokens: 985 MiB live at most (GC log); this gives 998 MiB.
     */
    public Map<String, Long> gptqWorkingSet(long tokens) {
        long[][] modules = modules();
        long worst = -1, worstHessians = 0, worstWeights = 0, worstCodes = 0, codesSoFar = 0;
        for (int i = 0; i < modules.length; i++) {
            long rows = modules[i][0], cols = modules[i][1];
            long hessians = (i < 3 || i == 4 ? 2 : 1) * cols * cols * 4;
            long weights = rows * cols * (4 + 2);
            if (hessians + weights + codesSoFar > worst) {
                worst = hessians + weights + codesSoFar;
                worstHessians = hessians;
                worstWeights = weights;
                worstCodes = codesSoFar;
            }
            codesSoFar += rows * cols;
        }
        Map<String, Long> parts = new LinkedHashMap<>();
        parts.put("calibration hidden states fp32", calibrationHiddenBytes(tokens));
        parts.put("hessians fp32", worstHessians);
        parts.put("module weights fp32+fp16", worstWeights);
        parts.put("codes of finished modules", worstCodes);
        return parts;
    }

    /** AWQ's peak: the hidden states, the four captured module inputs (q/k/v, o, gate/up, down) and the block's weights as floats twice (the scale search's candidates). */
    public Map<String, Long> awqWorkingSet(long tokens) {
        Map<String, Long> parts = new LinkedHashMap<>();
        parts.put("calibration hidden states fp32", calibrationHiddenBytes(tokens));
        parts.put("captured module inputs fp32", tokens * (2 * hidden + qDim + ffn) * 4);
        parts.put("block weights fp32 x2", 2 * weights() * 4);
        return parts;
    }

    /** A method without calibration streams block by block: the block's fp16 weights and their quantized copy. */
    public Map<String, Long> streamingWorkingSet(double bitsPerWeight) {
        Map<String, Long> parts = new LinkedHashMap<>();
        parts.put("block weights fp16", weights() * 2);
        parts.put("quantized block", (long) Math.ceil(weights() * bitsPerWeight / 8));
        return parts;
    }

    /** Bytes a block moves: its fp16 weights in and out, plus the calibration activations in and out when calibrated. */
    public double bytesPerBlock(long tokens) {
        return weights() * 2 * 2.0 + 2.0 * tokens * Math.max(hidden, ffn) * 2;
    }
}
