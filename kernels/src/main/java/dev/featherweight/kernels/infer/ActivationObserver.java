package dev.featherweight.kernels.infer;

/**
 * Sees the input of every matmul of a forward pass: how calibration (GPTQ Hessians, AWQ activation scales,
 * llama-imatrix importance sums) collects statistics without its own forward pass.
 *
 * <p>Module names: {@code attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down} (layer 0 …
 * n-1) and {@code output} (layer −1, the lm_head / output.weight input after the final norm). {@code x}
 * holds {@code nTokens} rows of {@code cols} floats (row-major); it is only valid during the call (copy
 * what you keep) and must not be modified. attn_q, attn_k and attn_v share one input, as do ffn_gate and
 * ffn_up: each is reported once per weight all the same, so a per-weight consumer needs no special case.
 * Called from the forward pass thread, never concurrently.
 */
@FunctionalInterface
public interface ActivationObserver {
    void onMatmulInput(int layer, String module, float[] x, int nTokens, int cols);
}
