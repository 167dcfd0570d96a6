package dev.featherweight.kernels.quant.gguf;

import java.util.Arrays;

/**
 * Matmul inputs quantized as llama.cpp's CPU backend quantizes a matmul's src1 before its integer dot products:
 * blocks of 32 with an fp16 scale ({@code quantize_row_q8_0}, the x86 SIMD path: id = 127/amax, round half to even)
 * for Q8_0/Q4_0 weights, or blocks of 256 with a float scale ({@code quantize_row_q8_K}) for the K-quants. The
 * quants are kept widened to {@code short} (the integer dots multiply 16-bit lanes). {@code d·q} is exactly what {@code infer.Numerics} rounds the same
 * activations to, so this and the float path see the same values; only the order of the sums differs.
 *
 * <p>One instance is reused from call to call by one thread (arrays grow, never shrink).
 */
public final class Q8Activations {
    private int blockSize;
    private int cols;
    private short[] q = new short[0];
    private float[] d = new float[0];

    /** Block size of the last {@link #quantize}: 32 (Q8_0) or 256 (Q8_K). */
    public int blockSize() {
        return blockSize;
    }

    /** Row length of the last {@link #quantize}. */
    public int cols() {
        return cols;
    }

    short[] quants() {
        return q;
    }

    float[] scales() {
        return d;
    }

    /** Quant {@code i} of the flattened rows (token·cols + column), for tests. */
    public int quant(int i) {
        return q[i];
    }

    /** Scale of block {@code i} of the flattened rows, for tests. */
    public float scale(int i) {
        return d[i];
    }

    /**
     * Quantizes n rows of cols activations x[0 .. n·cols) into blocks of {@code blockSize} (32: Q8_0, 256: Q8_K).
     *
     * @throws IllegalArgumentException when cols is not a multiple of blockSize or blockSize is neither 32 nor 256
     */
    public void quantize(int blockSize, float[] x, int n, int cols) {
        if (blockSize != 32 && blockSize != 256) throw new IllegalArgumentException("activation blocks are 32 (Q8_0) or 256 (Q8_K), not " + blockSize);
        if (cols % blockSize != 0) throw new IllegalArgumentException("row of " + cols + " is not a whole number of " + blockSize + "-blocks");
        this.blockSize = blockSize;
        this.cols = cols;
        int len = n * cols;
        if (q.length < len) q = new short[len];
        if (d.length < len / blockSize) d = new float[len / blockSize];
        for (int b = 0, o = 0; o < len; b++, o += blockSize) {
            if (blockSize == 32) q8_0(x, o, b);
            else q8_K(x, o, b);
        }
    }

    /** quantize_row_q8_0 (x86): d = fp16(amax/127), q = rint(x·127/amax). */
    private void q8_0(float[] x, int o, int b) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
        d[b] = Float.float16ToFloat(Float.floatToFloat16(amax / 127.f));
        float id = amax != 0 ? 127.f / amax : 0;
        for (int j = 0; j < 32; j++) q[o + j] = (short) Math.rint(x[o + j] * id);
    }

    /** quantize_row_q8_K: iscale = −127/max (max = the value of largest |x|), q = min(127, rint(iscale·x)), d = 1/iscale. */
    private void q8_K(float[] x, int o, int b) {
        float max = 0, amax = 0;
        for (int j = 0; j < 256; j++) {
            float ax = Math.abs(x[o + j]);
            if (ax > amax) {
                amax = ax;
                max = x[o + j];
            }
        }
        if (amax == 0) {
            d[b] = 0;
            Arrays.fill(q, o, o + 256, (short) 0);
            return;
        }
        float iscale = -127.f / max;
        d[b] = 1 / iscale;
        for (int j = 0; j < 256; j++) q[o + j] = (short) Math.min(127, (int) Math.rint(iscale * x[o + j]));
    }
}
