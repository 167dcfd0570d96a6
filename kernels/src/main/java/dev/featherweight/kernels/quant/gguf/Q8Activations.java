package dev.featherweight.kernels.quant.gguf;

/**
 * Matmul inputs quantized as llama.cpp's CPU backend quantizes a matmul's src1 before its integer dot products:
 * blocks of 32 with an fp16 scale ({@code quantize_row_q8_0}, the x86 SIMD path: id = 127/amax, round half to even),
 * what Q8_0 and Q4_0 weights multiply ({@link GgufBlockCodec#q8BlockSize()}; the K-quants' 256-blocks, Q8_K, have no
 * integer dot here). The quants are kept widened to {@code short} (the integer dots multiply 16-bit lanes). {@code d·q} is exactly what {@code infer.Numerics} rounds the same
 * activations to, so this and the float path see the same values; only the order of the sums differs.
 *
 * <p>One instance is reused from call to call by one thread (arrays grow, never shrink).
 */
public final class Q8Activations {
    private int blockSize;
    private int cols;
    private short[] q = new short[0];
    private float[] d = new float[0];

    /** Block size of the last {@link #quantize}: 32. */
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
     * Quantizes n rows of cols activations x[0 .. n·cols) into blocks of {@code blockSize} (a codec's
     * {@link GgufBlockCodec#q8BlockSize()}: 32, Q8_0).
     *
     * @throws IllegalArgumentException when blockSize is not 32 or cols is not a multiple of it
     */
    public void quantize(int blockSize, float[] x, int n, int cols) {
        if (blockSize != 32) throw new IllegalArgumentException("activation blocks are 32 (Q8_0), not " + blockSize);
        if (cols % blockSize != 0) throw new IllegalArgumentException("row of " + cols + " is not a whole number of " + blockSize + "-blocks");
        this.blockSize = blockSize;
        this.cols = cols;
        int len = n * cols;
        if (q.length < len) q = new short[len];
        if (d.length < len / blockSize) d = new float[len / blockSize];
        for (int b = 0, o = 0; o < len; b++, o += blockSize) q8_0(x, o, b);
    }

    /** quantize_row_q8_0 (x86): d = fp16(amax/127), q = rint(x·127/amax). */
    private void q8_0(float[] x, int o, int b) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
        d[b] = Float.float16ToFloat(Float.floatToFloat16(amax / 127.f));
        float id = amax != 0 ? 127.f / amax : 0;
        for (int j = 0; j < 32; j++) q[o + j] = (short) Math.rint(x[o + j] * id);
    }
}
