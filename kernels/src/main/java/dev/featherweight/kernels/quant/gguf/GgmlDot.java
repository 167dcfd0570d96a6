package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * The dot products of ggml's CPU backend (c392e50) between a quantized weight row and a row of {@link Q8Activations},
 * bit for bit: what llama.cpp computes for one element of a quantized matmul, batched or not.
 *
 * <p>Which code runs (x86; an AVX-512 build runs the same code as an AVX2 one for all these types — ggml's dots and
 * tinyBLAS_Q0_AVX use 256-bit vectors either way, and its VNNI variants {@code _mm256_dpbusd_epi32} only change how the
 * exact integer sums are formed):
 * <ul>
 *   <li>Q8_0 (and Q4_0 whose row count is not a multiple of 8): {@code ggml_vec_dot_<type>_q8_0} for one token and
 *   llamafile's {@code tinyBLAS_Q0_AVX} for two or more — the same arithmetic: per 32-block, 8 int32 lanes (lane k: the
 *   products of elements 4k … 4k+3), converted to float and {@code fma(d_w·d_x, lane, acc)}; at the end
 *   {@code hsum_float_8}: ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)).</li>
 *   <li>Q4_0 with rows a multiple of 8 (llama-perplexity's default AARCH64_REPACK buffer repacks it to q4_0_8x8 on any
 *   AVX2 CPU): {@code ggml_gemm_q4_0_8x8_q8_0} / {@code ggml_gemv_q4_0_8x8_q8_0} — per block one int32 sum of all 32
 *   products, {@code acc = fma(float(sum), d_w·d_x, acc)}, one chain per output, no horizontal sum.</li>
 *   <li>Q2_K … Q6_K, IQ4_XS, IQ2_XS: {@code ggml_vec_dot_<type>_q8_K} (no sgemm for them on x86) — per 256-block the
 *   8 int32 lanes summed over the whole block (sub-block scales applied as integers; lane k gets elements ≡ 4k … 4k+3
 *   mod 32), {@code fma(d, lane, acc)} with d = d_x·d_w; the mins terms with dmin = −d_x·dmin_w: Q2_K fma's them into
 *   the same 8 lanes first, Q4_K into 4 lanes of their own (added as (m0 + m2) + (m1 + m3) after the hsum), Q5_K into
 *   one scalar; IQ2_XS scales the hsum by 0.125.</li>
 * </ul>
 * Since the integer lane sums are exact, any formulation that keeps them exact gives the same bits: here weights are
 * decoded to integer-valued floats (sub-block scale × quant, {@link #decodeRows}) in the activations' lane order
 * ({@link Q8Activations#position}) and multiplied with FMAs, exact because every |partial sum| stays below 2²⁴
 * (the largest bound, IQ4_XS: 32 elements per lane × 32 × 127 × 127 = 16.5 M; Q6_K: 32 × 128 × 32 × 127 = 16.6 M).
 */
public final class GgmlDot {
    /** How a type's per-block lane sums become the result. */
    enum Order {
        /** 32-blocks, 8 lanes, hsum (Q8_0, Q4_0 unrepacked). */
        BLOCKS_32,
        /** 32-blocks, one chain of whole-block sums (Q4_0 repacked to q4_0_8x8). */
        CHAIN_32,
        /** 256-blocks, 8 lanes, hsum (Q3_K, Q6_K, IQ4_XS). */
        K,
        /** As {@link #K}, times 0.125 at the end (IQ2_XS). */
        K_EIGHTH,
        /** Q2_K: 16 mins per block fma'd into the 8 lanes before the block's sums. */
        Q2_K,
        /** Q4_K: 8 mins per block into 4 lanes of their own. */
        Q4_K,
        /** Q5_K: 8 mins per block into one scalar. */
        Q5_K
    }

    /** Floats per lane group: the 8 int32 lanes of a 256-bit vector; a 128-bit CPU runs them as two halves. */
    static final int LANES = 8;
    private static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(Math.min(256, VectorWidth.FLOATS.vectorBitSize())));
    private static final int L = F.length();

    private final GgmlType type;
    private final BlockCodec codec;
    private final Order order;
    private final int blockSize;
    private final int dOffset;
    /** Byte offset of the fp16 dmin, or −1. */
    private final int dminOffset;

    private GgmlDot(GgmlType type, Order order, int dOffset, int dminOffset) {
        this.type = type;
        this.codec = (BlockCodec) GgufBlockCodecs.of(type);
        this.order = order;
        this.blockSize = type.blockSize;
        this.dOffset = dOffset;
        this.dminOffset = dminOffset;
    }

    /**
     * ggml's dot for weights of this type, or null when the type has none here (F32, F16, BF16 and the types llama.cpp's
     * KLD references do not use). {@code repacked}: Q4_0 in the AARCH64_REPACK layout (rows a multiple of 8).
     */
    public static GgmlDot of(GgmlType type, int rows) {
        return switch (type) {
            case Q8_0 -> new GgmlDot(type, Order.BLOCKS_32, 0, -1);
            case Q4_0 -> new GgmlDot(type, rows % 8 == 0 ? Order.CHAIN_32 : Order.BLOCKS_32, 0, -1);
            case Q2_K -> new GgmlDot(type, Order.Q2_K, 80, 82);
            case Q3_K -> new GgmlDot(type, Order.K, 108, -1);
            case Q4_K -> new GgmlDot(type, Order.Q4_K, 0, 2);
            case Q5_K -> new GgmlDot(type, Order.Q5_K, 0, 2);
            case Q6_K -> new GgmlDot(type, Order.K, 208, -1);
            case IQ4_XS -> new GgmlDot(type, Order.K, 0, -1);
            case IQ2_XS -> new GgmlDot(type, Order.K_EIGHTH, 0, -1);
            default -> null;
        };
    }

    /** Block size of the activations this dot takes: 32 (Q8_0) or 256 (Q8_K). */
    public int activationBlockSize() {
        return blockSize;
    }

    /** Mins per block kept by {@link #decodeRows}: 16 (Q2_K, one per 16 weights), 8 (Q4_K, Q5_K) or 0. */
    int minsPerBlock() {
        return switch (order) {
            case Q2_K -> 16;
            case Q4_K, Q5_K -> 8;
            default -> 0;
        };
    }

    /** Decoded rows: integer weights in lane order, and per block d_w, dmin_w and the integer mins, as floats. */
    public static final class Rows {
        float[] w = new float[0];
        float[] d = new float[0];
        float[] dmin = new float[0];
        float[] mins = new float[0];
        byte[] bytes = new byte[0];
        float[] plain = new float[0];
        private final float[] lanes = new float[2 * LANES];

        /** Scratch for {@link #dot}. */
        public float[] lanes() {
            return lanes;
        }

        void ensure(int rows, int cols, int blocks, int minsPerBlock, int rowBytes) {
            if (w.length < rows * cols) w = new float[rows * cols];
            if (d.length < rows * blocks) {
                d = new float[rows * blocks];
                dmin = new float[rows * blocks];
            }
            if (mins.length < rows * blocks * minsPerBlock) mins = new float[rows * blocks * minsPerBlock];
            if (bytes.length < rowBytes) bytes = new byte[rowBytes];
            if (plain.length < cols) plain = new float[cols];
        }
    }

    private static final ThreadLocal<Rows> SCRATCH = ThreadLocal.withInitial(Rows::new);

    /** This thread's decode buffers (valid until its next call). */
    public static Rows scratch() {
        return SCRATCH.get();
    }

    /**
     * Decodes rows {@code r0 … r0+count−1} (each {@code rowBytes} bytes from {@code base}) into {@code out}, row i of the
     * tile at {@code i·cols}. The integer weights are the codec's own decode with every block's d set to 1 and dmin to
     * 0: the sub-block scale times the quant (IQ2_XS: its (0.5 + s)/4 · grid value, times 8), exact.
     */
    public void decodeRows(MemorySegment base, long rowBytes, int r0, int count, int cols, Rows out) {
        int nb = cols / blockSize, blockBytes = type.typeSize, mpb = minsPerBlock();
        out.ensure(count, cols, nb, mpb, (int) rowBytes);
        byte[] b = out.bytes;
        for (int i = 0; i < count; i++) {
            MemorySegment.copy(base, java.lang.foreign.ValueLayout.JAVA_BYTE, (r0 + i) * rowBytes, b, 0, (int) rowBytes);
            for (int blk = 0; blk < nb; blk++) {
                int o = blk * blockBytes;
                out.d[i * nb + blk] = BlockCodec.getFp16(b, o + dOffset);
                BlockCodec.putShort(b, o + dOffset, (short) 0x3C00);
                if (dminOffset >= 0) {
                    out.dmin[i * nb + blk] = BlockCodec.getFp16(b, o + dminOffset);
                    BlockCodec.putShort(b, o + dminOffset, (short) 0);
                }
                int m = (i * nb + blk) * mpb;
                switch (order) {
                    case Q2_K -> {
                        for (int j = 0; j < 16; j++) out.mins[m + j] = (b[o + j] & 0xFF) >> 4;
                    }
                    case Q4_K, Q5_K -> {
                        for (int j = 0; j < 8; j++) out.mins[m + j] = KScales.min(b, o + 4, j);
                    }
                    default -> {
                    }
                }
            }
            codec.dequantize(b, out.plain, 0, cols);
            float unit = order == Order.K_EIGHTH ? 8 : 1;
            int wo = i * cols;
            for (int e = 0; e < cols; e++) out.w[wo + Q8Activations.position(e)] = out.plain[e] * unit;
        }
    }

    /**
     * ggml's result for row {@code row} of {@code rows} (decoded) and token {@code token} of {@code x}; {@code lanes} is
     * scratch of at least 2·{@link #LANES} floats.
     */
    public float dot(Rows rows, int row, int cols, Q8Activations x, int token, float[] lanes) {
        int nb = cols / blockSize;
        float[] w = rows.w, xq = x.quants(), xd = x.scales();
        int wo = row * cols, xo = token * cols, rb = row * nb, xb = token * nb;
        if (order == Order.CHAIN_32) {
            float acc = 0;
            for (int b = 0; b < nb; b++) {
                int o = b * 32;
                FloatVector s = FloatVector.zero(F);
                for (int j = 0; j < 32; j += L) s = FloatVector.fromArray(F, w, wo + o + j).fma(FloatVector.fromArray(F, xq, xo + o + j), s);
                float isum = s.reduceLanes(jdk.incubator.vector.VectorOperators.ADD); // exact: an integer below 2^24
                acc = Math.fma(isum, rows.d[rb + b] * xd[xb + b], acc);
            }
            return acc;
        }
        int mpb = minsPerBlock();
        int[] bsums = x.bsums();
        float accM0 = 0, accM1 = 0, accM2 = 0, accM3 = 0, summs = 0;
        for (int h = 0; h < LANES; h += L) {
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < nb; b++) {
                int o = b * blockSize + h;
                FloatVector s = FloatVector.zero(F);
                for (int g = 0; g < blockSize; g += 32) {
                    for (int c = 0; c < 32; c += LANES) {
                        s = FloatVector.fromArray(F, w, wo + o + g + c).fma(FloatVector.fromArray(F, xq, xo + o + g + c), s);
                    }
                }
                if (order == Order.Q2_K) {
                    int m = (rb + b) * mpb, bs = (xb + b) * 16;
                    for (int k = 0; k < L; k++) {
                        int lane = h + k;
                        lanes[LANES + k] = rows.mins[m + 2 * lane] * bsums[bs + 2 * lane] + rows.mins[m + 2 * lane + 1] * bsums[bs + 2 * lane + 1];
                    }
                    float dmin = -xd[xb + b] * rows.dmin[rb + b];
                    acc = FloatVector.fromArray(F, lanes, LANES).fma(FloatVector.broadcast(F, dmin), acc);
                }
                acc = s.fma(FloatVector.broadcast(F, xd[xb + b] * rows.d[rb + b]), acc);
            }
            acc.intoArray(lanes, h);
        }
        if (order == Order.Q4_K || order == Order.Q5_K) {
            for (int b = 0; b < nb; b++) {
                int m = (rb + b) * mpb, bs = (xb + b) * 16;
                float dmin = -xd[xb + b] * rows.dmin[rb + b];
                int p0 = 0, p1 = 0, p2 = 0, p3 = 0;
                float[] mins = rows.mins;
                p0 = (int) mins[m] * (bsums[bs] + bsums[bs + 1]) + (int) mins[m + 1] * (bsums[bs + 2] + bsums[bs + 3]);
                p1 = (int) mins[m + 2] * (bsums[bs + 4] + bsums[bs + 5]) + (int) mins[m + 3] * (bsums[bs + 6] + bsums[bs + 7]);
                p2 = (int) mins[m + 4] * (bsums[bs + 8] + bsums[bs + 9]) + (int) mins[m + 5] * (bsums[bs + 10] + bsums[bs + 11]);
                p3 = (int) mins[m + 6] * (bsums[bs + 12] + bsums[bs + 13]) + (int) mins[m + 7] * (bsums[bs + 14] + bsums[bs + 15]);
                if (order == Order.Q4_K) {
                    accM0 = Math.fma(dmin, (float) p0, accM0);
                    accM1 = Math.fma(dmin, (float) p1, accM1);
                    accM2 = Math.fma(dmin, (float) p2, accM2);
                    accM3 = Math.fma(dmin, (float) p3, accM3);
                } else {
                    summs = Math.fma(dmin, (float) ((p0 + p1) + (p2 + p3)), summs);
                }
            }
        }
        float s = hsum8(lanes);
        return switch (order) {
            case Q4_K -> s + ((accM0 + accM2) + (accM1 + accM3));
            case Q5_K -> s + summs;
            case K_EIGHTH -> 0.125f * s;
            default -> s;
        };
    }

    /** ggml's {@code hsum_float_8} (and tinyBLAS's {@code hsum} of a __m256): upper half onto the lower, then movehl, then movehdup. */
    static float hsum8(float[] a) {
        return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
    }
}
