package dev.featherweight.kernels.quant.gguf;

/**
 * Matmul inputs quantized as llama.cpp's CPU backend quantizes a matmul's src1 for the weight's {@code vec_dot_type}
 * before its integer dot products: blocks of 32 with an fp16 scale ({@code quantize_row_q8_0}, the x86 SIMD path:
 * id = 127/amax, round half to even) for Q8_0 and Q4_0 weights, or blocks of 256 with a float scale and 16-element
 * sums ({@code quantize_row_q8_K}: iscale = −127/max, d = 1/iscale) for the K-quants and IQ4_XS/IQ2_XS
 * ({@link GgufBlockCodec#q8BlockSize()}). {@code d·q} is exactly what {@code infer.Numerics} rounds the same
 * activations to.
 *
 * <p>The quants are kept as floats (integers, so every product with an integer weight and every partial sum of
 * the exact dots stays exact, {@link GgmlDot}) in the <em>lane order</em> of ggml's AVX2 dots: in each group of 32,
 * element 4k + c is stored at c·8 + k, so that vector c of 8 floats holds in lane k the element that
 * {@code _mm256_maddubs_epi16} + {@code _mm256_madd_epi16} (or VNNI's {@code dpbusd}) sum into int32 lane k.
 *
 * <p>One instance is reused from call to call by one thread (arrays grow, never shrink).
 */
public final class Q8Activations {
    private int blockSize;
    private int cols;
    private float[] q = new float[0];
    private float[] d = new float[0];
    /** Q8_K only: per block the 16 sums of 16 consecutive quants ({@code bsums}). */
    private int[] bsums = new int[0];
    /** The same sums as floats, per block the 8 even-numbered ones then the 8 odd ones (Q2_K's mins pairs). */
    private float[] bsumsEvenOdd = new float[0];

    /** Block size of the last {@link #quantize}: 32 or 256. */
    public int blockSize() {
        return blockSize;
    }

    /** Row length of the last {@link #quantize}. */
    public int cols() {
        return cols;
    }

    float[] quants() {
        return q;
    }

    float[] scales() {
        return d;
    }

    int[] bsums() {
        return bsums;
    }

    float[] bsumsEvenOdd() {
        return bsumsEvenOdd;
    }

    /** Where element e of the flattened rows (token·cols + column) is stored: lane order inside its group of 32. */
    static int position(int e) {
        int g = e & 31;
        return (e & ~31) | ((g & 3) << 3) | (g >> 2);
    }

    /** Quant {@code i} of the flattened rows (token·cols + column), for tests. */
    public int quant(int i) {
        return (int) q[position(i)];
    }

    /** Scale of block {@code i} of the flattened rows, for tests. */
    public float scale(int i) {
        return d[i];
    }

    /**
     * Quantizes n rows of cols activations x[0 .. n·cols) into blocks of {@code blockSize} (a codec's
     * {@link GgufBlockCodec#q8BlockSize()}: 32, Q8_0, or 256, Q8_K).
     *
     * @throws IllegalArgumentException when blockSize is not 32 or 256 or cols is not a multiple of it
     */
    public void quantize(int blockSize, float[] x, int n, int cols) {
        if (blockSize != 32 && blockSize != 256) throw new IllegalArgumentException("activation blocks are 32 (Q8_0) or 256 (Q8_K), not " + blockSize);
        if (cols % blockSize != 0) throw new IllegalArgumentException("row of " + cols + " is not a whole number of " + blockSize + "-blocks");
        this.blockSize = blockSize;
        this.cols = cols;
        int len = n * cols;
        if (q.length < len) q = new float[len];
        if (d.length < len / blockSize) d = new float[len / blockSize];
        if (blockSize == 32) {
            for (int b = 0, o = 0; o < len; b++, o += 32) q8_0(x, o, b);
        } else {
            if (bsums.length < len / 16) {
                bsums = new int[len / 16];
                bsumsEvenOdd = new float[len / 16];
            }
            for (int b = 0, o = 0; o < len; b++, o += 256) q8_K(x, o, b);
        }
    }

    /** quantize_row_q8_0 (x86): d = fp16(amax/127), q = rint(x·127/amax). */
    private void q8_0(float[] x, int o, int b) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
        d[b] = Float.float16ToFloat(Float.floatToFloat16(amax / 127.f));
        float id = amax != 0 ? 127.f / amax : 0;
        for (int j = 0; j < 32; j++) q[position(o + j)] = (float) Math.rint(x[o + j] * id);
    }

    /**
     * quantize_row_q8_K_ref's max: the first element of largest |x| among x[o ..< o + n], with its sign (0 when all
     * are 0). Shared with {@code Numerics}, which rounds activations the same way without keeping the codes.
     */
    public static float firstLargestMagnitude(float[] x, int o, int n) {
        float max = 0, amax = 0;
        for (int j = 0; j < n; j++) {
            float ax = Math.abs(x[o + j]);
            if (ax > amax) {
                amax = ax;
                max = x[o + j];
            }
        }
        return max;
    }

    /** quantize_row_q8_K_ref: the first largest |x| gives max, iscale = −127/max, q = min(127, rint(iscale·x)), d = 1/iscale. */
    private void q8_K(float[] x, int o, int b) {
        float max = firstLargestMagnitude(x, o, 256);
        if (max == 0) {
            d[b] = 0;
            for (int j = 0; j < 256; j++) q[o + j] = 0;
            for (int j = 0; j < 16; j++) bsums[16 * b + j] = 0;
            for (int j = 0; j < 16; j++) bsumsEvenOdd[16 * b + j] = 0;
            return;
        }
        float iscale = -127.f / max;
        for (int j = 0; j < 16; j++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) {
                int v = Math.min(127, (int) Math.rint(iscale * x[o + 16 * j + i]));
                q[position(o + 16 * j + i)] = v;
                sum += v;
            }
            bsums[16 * b + j] = sum;
            bsumsEvenOdd[16 * b + (j >> 1) + (j & 1) * 8] = sum;
        }
        d[b] = 1 / iscale;
    }
}
