package dev.featherweight.kernels.quant;

/**
 * SmoothQuant (Xiao et al. 2022) as llm-compressor's SmoothQuantModifier computes it: per input channel j of the
 * layers that share one input (q/k/v after input_layernorm, gate/up after post_attention_layernorm),
 * s_j = range(X_j)^α / (2 · max|W_·j|)^(1−α), where range(X_j) = max − min of the channel over the calibration tokens
 * and the weight maximum runs over every row of every layer of the group; s_j = range(X_j) where the weights of the
 * channel are all zero, and at least 1e-5. The input is then divided by s (folded into the preceding norm's weight)
 * and the weights' columns multiplied by s, so the float function is unchanged while activation outliers move into
 * the weights, which are quantized per output channel.
 */
public final class SmoothQuant {
    public static final double DEFAULT_ALPHA = 0.5;
    /** llm-compressor's MINIMUM_SMOOTHING_SCALE. */
    public static final float MIN_SCALE = 1e-5f;

    private SmoothQuant() {
    }

    /** Running per-channel minimum and maximum of a layer input over calibration tokens. */
    public static final class Range {
        private final float[] min, max;

        public Range(int cols) {
            min = new float[cols];
            max = new float[cols];
            java.util.Arrays.fill(min, Float.POSITIVE_INFINITY);
            java.util.Arrays.fill(max, Float.NEGATIVE_INFINITY);
        }

        public void add(float[] x, int nTokens, int cols) {
            for (int t = 0; t < nTokens; t++) {
                int o = t * cols;
                for (int c = 0; c < cols; c++) {
                    float v = x[o + c];
                    if (v < min[c]) min[c] = v;
                    if (v > max[c]) max[c] = v;
                }
            }
        }

        public float[] range() {
            float[] r = new float[min.length];
            for (int c = 0; c < r.length; c++) r[c] = max[c] - min[c];
            return r;
        }
    }

    /** The smoothing scales of one group of layers (each rows[i] × cols, row-major) sharing an input with {@code range}. */
    public static float[] scales(float[] range, float[][] weights, int[] rows, int cols, double alpha) {
        float[] s = new float[cols];
        for (int c = 0; c < cols; c++) {
            float wmax = 0;
            for (int i = 0; i < weights.length; i++) for (int r = 0; r < rows[i]; r++) wmax = Math.max(wmax, Math.abs(weights[i][r * cols + c]));
            float ws = 2f * wmax;
            float v = ws > 0 ? (float) (Math.pow(range[c], alpha) / Math.pow(ws, 1 - alpha)) : range[c];
            s[c] = Math.max(v, MIN_SCALE);
        }
        return s;
    }

    /** W[·][j] · s_j in place (the layers after the smoothed input). */
    public static void scaleColumns(float[] w, int rows, int cols, float[] s) {
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) w[r * cols + c] *= s[c];
    }

    /** norm_j / s_j (the RMSNorm weight that produces the input). */
    public static float[] divide(float[] norm, float[] s) {
        float[] out = new float[norm.length];
        for (int j = 0; j < norm.length; j++) out[j] = norm[j] / s[j];
        return out;
    }
}
