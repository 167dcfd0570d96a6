package dev.featherweight.kernels.quant;

/**
 * LLM.int8() weights (Dettmers et al.; bitsandbytes functional.py {@code int8_vectorwise_quant}): each output row
 * is scaled by its absolute maximum, SCB[r] = max |W[r][·]|, and rounded: CB[r][c] = round(W[r][c] · 127 / SCB[r]).
 * Dequantized: CB · SCB / 127. The outlier threshold (6.0) acts on activations at inference time — columns of
 * the input with |x| ≥ threshold are multiplied in 16-bit — so it is only recorded in the config.
 */
public final class LlmInt8 {
    public static final float DEFAULT_THRESHOLD = 6.0f;

    private LlmInt8() {
    }

    /** Int8 codes rows × cols and the row scales SCB. */
    public record Weight(int rows, int cols, byte[] cb, float[] scb) {
        public float dequantize(int r, int c) {
            return cb[r * cols + c] * scb[r] / 127f;
        }

        public float[] dequantize() {
            float[] w = new float[rows * cols];
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) w[r * cols + c] = dequantize(r, c);
            return w;
        }
    }

    public static Weight quantize(float[] w, int rows, int cols) {
        byte[] cb = new byte[rows * cols];
        float[] scb = new float[rows];
        for (int r = 0; r < rows; r++) {
            float m = 0;
            for (int c = 0; c < cols; c++) m = Math.max(m, Math.abs(w[r * cols + c]));
            scb[r] = m;
            float f = m == 0 ? 0 : 127f / m;
            for (int c = 0; c < cols; c++) cb[r * cols + c] = (byte) Math.max(-127, Math.min(127, Math.rint(w[r * cols + c] * f)));
        }
        return new Weight(rows, cols, cb, scb);
    }
}
