package dev.featherweight.kernels.quant;

/**
 * How a W8A8 serving engine rounds a linear layer's input before the 8-bit matmul, simulated in float: the values
 * the int8/FP8 GEMM multiplies, times their scale (vLLM's {@code scaled_int8_quant} and
 * {@code scaled_fp8_quant} kernels). Used to measure perplexity with activations in their real precision.
 */
public sealed interface ActivationQuantization {

    /** Rounds {@code x} (nTokens × cols, row-major) into {@code out}. */
    void apply(float[] x, int nTokens, int cols, float[] out);

    /** Symmetric int8, one scale per token: s = absmax/127, q = rint(x · 127/absmax) clamped to [−128, 127]. */
    record Int8PerToken() implements ActivationQuantization {
        public void apply(float[] x, int nTokens, int cols, float[] out) {
            for (int t = 0; t < nTokens; t++) {
                int o = t * cols;
                float amax = 0;
                for (int c = 0; c < cols; c++) amax = Math.max(amax, Math.abs(x[o + c]));
                if (amax == 0) {
                    java.util.Arrays.fill(out, o, o + cols, 0f);
                    continue;
                }
                float scale = amax / 127f, inv = 127f / amax;
                for (int c = 0; c < cols; c++) out[o + c] = (float) Math.clamp(Math.rint(x[o + c] * inv), -128, 127) * scale;
            }
        }
    }

    /** FP8 E4M3, one scale per token: s = max(absmax/448, 1/(448·512)), q = e4m3(clamp(x/s, ±448)). */
    record Fp8PerToken() implements ActivationQuantization {
        public void apply(float[] x, int nTokens, int cols, float[] out) {
            for (int t = 0; t < nTokens; t++) {
                int o = t * cols;
                float amax = 0;
                for (int c = 0; c < cols; c++) amax = Math.max(amax, Math.abs(x[o + c]));
                float scale = Math.max(amax / Fp8E4M3.MAX, Fp8E4M3.MIN_DYNAMIC_SCALE);
                for (int c = 0; c < cols; c++) out[o + c] = Fp8E4M3.round(Math.clamp(x[o + c] / scale, -Fp8E4M3.MAX, Fp8E4M3.MAX)) * scale;
            }
        }
    }

    /** FP8 E4M3 with one calibrated scale for the tensor (the checkpoint's input_scale). */
    record Fp8Static(float scale) implements ActivationQuantization {
        public void apply(float[] x, int nTokens, int cols, float[] out) {
            for (int i = 0; i < nTokens * cols; i++) out[i] = Fp8E4M3.round(Math.clamp(x[i] / scale, -Fp8E4M3.MAX, Fp8E4M3.MAX)) * scale;
        }
    }
}
