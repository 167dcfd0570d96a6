package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.WeightMatrix;

/**
 * The weights of one transformer block. Biases are null unless the architecture has them (qwen2 q/k/v).
 * Replace one with {@code with*} and pass the result to {@link LlamaSession#forwardBlock} to run a block
 * with quantized or candidate weights (GPTQ/AWQ layer-by-layer calibration).
 */
public record BlockWeights(float[] attnNorm, WeightMatrix q, WeightMatrix k, WeightMatrix v, WeightMatrix o,
                           float[] qBias, float[] kBias, float[] vBias,
                           float[] ffnNorm, WeightMatrix gate, WeightMatrix up, WeightMatrix down) {

    /** The matrix for a module name (attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down). */
    public WeightMatrix matrix(String module) {
        return switch (module) {
            case "attn_q" -> q;
            case "attn_k" -> k;
            case "attn_v" -> v;
            case "attn_output" -> o;
            case "ffn_gate" -> gate;
            case "ffn_up" -> up;
            case "ffn_down" -> down;
            default -> throw new IllegalArgumentException("no block module '" + module + "'");
        };
    }

    /** A copy with one matrix replaced (module names as in {@link #matrix}). */
    public BlockWeights with(String module, WeightMatrix m) {
        return switch (module) {
            case "attn_q" -> new BlockWeights(attnNorm, m, k, v, o, qBias, kBias, vBias, ffnNorm, gate, up, down);
            case "attn_k" -> new BlockWeights(attnNorm, q, m, v, o, qBias, kBias, vBias, ffnNorm, gate, up, down);
            case "attn_v" -> new BlockWeights(attnNorm, q, k, m, o, qBias, kBias, vBias, ffnNorm, gate, up, down);
            case "attn_output" -> new BlockWeights(attnNorm, q, k, v, m, qBias, kBias, vBias, ffnNorm, gate, up, down);
            case "ffn_gate" -> new BlockWeights(attnNorm, q, k, v, o, qBias, kBias, vBias, ffnNorm, m, up, down);
            case "ffn_up" -> new BlockWeights(attnNorm, q, k, v, o, qBias, kBias, vBias, ffnNorm, gate, m, down);
            case "ffn_down" -> new BlockWeights(attnNorm, q, k, v, o, qBias, kBias, vBias, ffnNorm, gate, up, m);
            default -> throw new IllegalArgumentException("no block module '" + module + "'");
        };
    }

    public static final String[] MODULES = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
}
