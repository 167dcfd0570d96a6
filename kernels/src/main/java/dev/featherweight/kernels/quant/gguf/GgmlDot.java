package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

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
    private static final int[] STRIDE_4 = {0, 4, 8, 12, 16, 20, 24, 28};

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
     * KLD references do not use). {@code rows}: Q4_0 with a multiple of 8 rows is what ggml repacks (AARCH64_REPACK).
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
        final float[] lanes = new float[4 * LANES + LANES];
        final float[] res = new float[4];

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
     * Decodes rows {@code r0 … r0+count−1} (each {@code rowBytes} bytes from {@code base}) into {@code out}. The integer
     * weights are the codec's own decode with every block's d set to 1 and dmin to 0: the sub-block scale times the
     * quant (IQ2_XS: its (0.5 + s)/4 · grid value, times 8), exact. Layout: row i at i·cols in lane order; for the
     * repacked Q4_0 chain, as ggml's q4_0_8x8, groups of 8 rows with the 8 rows' weights of each position side by side
     * (group g, block b, position p, row j at g·8·cols + (b·32 + p)·8 + j), so that the chain runs with the rows in lanes.
     * Q2_K's 16 mins per block are kept as the 8 even ones, then the 8 odd ones (the pairs of its {@code madd_epi16}).
     */
    public void decodeRows(MemorySegment base, long rowBytes, int r0, int count, int cols, Rows out) {
        int nb = cols / blockSize, blockBytes = type.typeSize, mpb = minsPerBlock();
        out.ensure(count, cols, nb, mpb, (int) rowBytes);
        byte[] b = out.bytes;
        for (int i = 0; i < count; i++) {
            MemorySegment.copy(base, ValueLayout.JAVA_BYTE, (r0 + i) * rowBytes, b, 0, (int) rowBytes);
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
                        for (int j = 0; j < 16; j++) out.mins[m + (j >> 1) + (j & 1) * 8] = (b[o + j] & 0xFF) >> 4;
                    }
                    case Q4_K, Q5_K -> {
                        for (int j = 0; j < 8; j++) out.mins[m + j] = KScales.min(b, o + 4, j);
                    }
                    default -> {
                    }
                }
            }
            // the codec's vectorized decode where it has one (same bits as its reference decode)
            codec.decodeRow(MemorySegment.ofArray(b), 0, out.plain, 0, cols);
            if (order == Order.CHAIN_32) {
                int wo = (i >> 3) * 8 * cols + (i & 7);
                for (int e = 0; e < cols; e++) out.w[wo + 8 * Q8Activations.position(e)] = out.plain[e];
            } else {
                float unit = order == Order.K_EIGHTH ? 8 : 1;
                int wo = i * cols;
                // lane order: vector c of each group of 32 gathers elements c, c+4, …, c+28
                for (int g = 0; g < cols; g += 32) {
                    for (int c = 0; c < 4; c++) {
                        for (int h = 0; h < LANES; h += L) {
                            FloatVector.fromArray(F, out.plain, g + c, STRIDE_4, h).mul(unit).intoArray(out.w, wo + g + 8 * c + h);
                        }
                    }
                }
            }
        }
    }

    /**
     * out[t·outRows + r0 + i] = ggml's dot of decoded row i (of {@code count}) and token t of x, for every token: rows
     * and tokens in pairs (each weight and activation vector loaded once for two products), the repacked Q4_0 chain with
     * 8 rows in the lanes as ggml's gemm does.
     */
    public void matmulTile(Rows rows, int count, int cols, Q8Activations x, int nTokens, float[] out, int outRows, int r0) {
        if (order == Order.CHAIN_32) {
            for (int g = 0; g < count; g += 8) {
                int t = 0;
                for (; t + 1 < nTokens; t += 2) chain8(rows, g, cols, x, t, 2, out, outRows, r0);
                if (t < nTokens) chain8(rows, g, cols, x, t, 1, out, outRows, r0);
            }
            return;
        }
        float[] res = rows.res;
        for (int t = 0; t < nTokens; t += 2) {
            int t1 = Math.min(t + 1, nTokens - 1);
            for (int i = 0; i < count; i += 2) {
                int i1 = Math.min(i + 1, count - 1);
                dot2x2(rows, i, i1, cols, x, t, t1, res);
                out[t * outRows + r0 + i] = res[0];
                out[t * outRows + r0 + i1] = res[1];
                out[t1 * outRows + r0 + i] = res[2];
                out[t1 * outRows + r0 + i1] = res[3];
            }
        }
    }

    /** Tokens t (and t+1 when two): the 8 rows of group g as one vector chain per token, stored into out. */
    private void chain8(Rows rows, int g, int cols, Q8Activations x, int t, int tokens, float[] out, int outRows, int r0) {
        float[] w = rows.w, xq = x.quants(), xd = x.scales(), d = rows.d, lanes = rows.lanes;
        int nb = cols / 32, gw = g * cols, xo0 = t * cols, xo1 = (t + tokens - 1) * cols, xb0 = t * nb, xb1 = (t + tokens - 1) * nb;
        for (int h = 0; h < 8; h += L) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
            for (int b = 0; b < nb; b++) {
                FloatVector s0 = FloatVector.zero(F), s1 = s0;
                int wb = gw + b * 32 * 8 + h, xb = b * 32;
                for (int p = 0; p < 32; p++) {
                    FloatVector wv = FloatVector.fromArray(F, w, wb + 8 * p);
                    s0 = wv.fma(FloatVector.broadcast(F, xq[xo0 + xb + p]), s0);
                    s1 = wv.fma(FloatVector.broadcast(F, xq[xo1 + xb + p]), s1);
                }
                FloatVector dw = FloatVector.fromArray(F, dRow8(rows, g, b, nb, lanes), 0 + h);
                acc0 = s0.fma(dw.mul(xd[xb0 + b]), acc0);
                acc1 = s1.fma(dw.mul(xd[xb1 + b]), acc1);
            }
            acc0.intoArray(lanes, LANES + h);
            acc1.intoArray(lanes, 2 * LANES + h);
        }
        for (int j = 0; j < 8; j++) {
            out[t * outRows + r0 + g + j] = lanes[LANES + j];
            if (tokens == 2) out[(t + 1) * outRows + r0 + g + j] = lanes[2 * LANES + j];
        }
    }

    /** d_w of block b for the 8 rows of group g, gathered into lanes[0 .. 8). */
    private static float[] dRow8(Rows rows, int g, int b, int nb, float[] lanes) {
        for (int j = 0; j < 8; j++) lanes[j] = rows.d[(g + j) * nb + b];
        return lanes;
    }

    /**
     * ggml's results of rows i0, i1 with tokens t0, t1 into res (i0·t0, i1·t0, i0·t1, i1·t1); i0 = i1 or t0 = t1 when
     * fewer are left.
     */
    private void dot2x2(Rows rows, int i0, int i1, int cols, Q8Activations x, int t0, int t1, float[] res) {
        int nb = cols / blockSize;
        float[] w = rows.w, xq = x.quants(), xd = x.scales(), lanes = rows.lanes;
        int w0 = i0 * cols, w1 = i1 * cols, x0 = t0 * cols, x1 = t1 * cols;
        int rb0 = i0 * nb, rb1 = i1 * nb, xb0 = t0 * nb, xb1 = t1 * nb;
        for (int h = 0; h < LANES; h += L) {
            FloatVector a00 = FloatVector.zero(F), a10 = a00, a01 = a00, a11 = a00;
            for (int b = 0; b < nb; b++) {
                FloatVector s00 = FloatVector.zero(F), s10 = s00, s01 = s00, s11 = s00;
                for (int p = b * blockSize + h, end = p + blockSize; p < end; p += LANES) {
                    FloatVector wa = FloatVector.fromArray(F, w, w0 + p), wb = FloatVector.fromArray(F, w, w1 + p);
                    FloatVector xa = FloatVector.fromArray(F, xq, x0 + p), xb = FloatVector.fromArray(F, xq, x1 + p);
                    s00 = wa.fma(xa, s00);
                    s10 = wb.fma(xa, s10);
                    s01 = wa.fma(xb, s01);
                    s11 = wb.fma(xb, s11);
                }
                if (order == Order.Q2_K) {
                    float[] bs = x.bsumsEvenOdd(), mins = rows.mins;
                    int m0 = (rb0 + b) * 16 + h, m1 = (rb1 + b) * 16 + h, c0 = (xb0 + b) * 16 + h, c1 = (xb1 + b) * 16 + h;
                    FloatVector me0 = FloatVector.fromArray(F, mins, m0), mo0 = FloatVector.fromArray(F, mins, m0 + 8);
                    FloatVector me1 = FloatVector.fromArray(F, mins, m1), mo1 = FloatVector.fromArray(F, mins, m1 + 8);
                    FloatVector be0 = FloatVector.fromArray(F, bs, c0), bo0 = FloatVector.fromArray(F, bs, c0 + 8);
                    FloatVector be1 = FloatVector.fromArray(F, bs, c1), bo1 = FloatVector.fromArray(F, bs, c1 + 8);
                    // the products and their sum are integers below 2^24: exact, as ggml's madd_epi16
                    a00 = me0.mul(be0).add(mo0.mul(bo0)).fma(FloatVector.broadcast(F, -xd[xb0 + b] * rows.dmin[rb0 + b]), a00);
                    a10 = me1.mul(be0).add(mo1.mul(bo0)).fma(FloatVector.broadcast(F, -xd[xb0 + b] * rows.dmin[rb1 + b]), a10);
                    a01 = me0.mul(be1).add(mo0.mul(bo1)).fma(FloatVector.broadcast(F, -xd[xb1 + b] * rows.dmin[rb0 + b]), a01);
                    a11 = me1.mul(be1).add(mo1.mul(bo1)).fma(FloatVector.broadcast(F, -xd[xb1 + b] * rows.dmin[rb1 + b]), a11);
                }
                a00 = s00.fma(FloatVector.broadcast(F, xd[xb0 + b] * rows.d[rb0 + b]), a00);
                a10 = s10.fma(FloatVector.broadcast(F, xd[xb0 + b] * rows.d[rb1 + b]), a10);
                a01 = s01.fma(FloatVector.broadcast(F, xd[xb1 + b] * rows.d[rb0 + b]), a01);
                a11 = s11.fma(FloatVector.broadcast(F, xd[xb1 + b] * rows.d[rb1 + b]), a11);
            }
            a00.intoArray(lanes, h);
            a10.intoArray(lanes, LANES + h);
            a01.intoArray(lanes, 2 * LANES + h);
            a11.intoArray(lanes, 3 * LANES + h);
        }
        res[0] = finish(rows, lanes, 0, rb0, x, xb0, nb);
        res[1] = finish(rows, lanes, LANES, rb1, x, xb0, nb);
        res[2] = finish(rows, lanes, 2 * LANES, rb0, x, xb1, nb);
        res[3] = finish(rows, lanes, 3 * LANES, rb1, x, xb1, nb);
    }

    /** The 8 lanes at lanes[off ..] summed as hsum_float_8, with the Q4_K/Q5_K mins terms and IQ2_XS's 1/8. */
    private float finish(Rows rows, float[] lanes, int off, int rb, Q8Activations x, int xb, int nb) {
        float s = ((lanes[off] + lanes[off + 4]) + (lanes[off + 2] + lanes[off + 6])) + ((lanes[off + 1] + lanes[off + 5]) + (lanes[off + 3] + lanes[off + 7]));
        if (order == Order.K_EIGHTH) return 0.125f * s;
        if (order != Order.Q4_K && order != Order.Q5_K) return s;
        int[] bsums = x.bsums();
        float[] mins = rows.mins, xd = x.scales();
        float m0 = 0, m1 = 0, m2 = 0, m3 = 0, summs = 0;
        for (int b = 0; b < nb; b++) {
            int m = (rb + b) * 8, bs = (xb + b) * 16;
            float dmin = -xd[xb + b] * rows.dmin[rb + b];
            // ggml: the 8 sub-block sums (_mm_hadd_epi16 of the 16 bsums) times the mins, pairs added by _mm_madd_epi16
            int p0 = (int) mins[m] * (bsums[bs] + bsums[bs + 1]) + (int) mins[m + 1] * (bsums[bs + 2] + bsums[bs + 3]);
            int p1 = (int) mins[m + 2] * (bsums[bs + 4] + bsums[bs + 5]) + (int) mins[m + 3] * (bsums[bs + 6] + bsums[bs + 7]);
            int p2 = (int) mins[m + 4] * (bsums[bs + 8] + bsums[bs + 9]) + (int) mins[m + 5] * (bsums[bs + 10] + bsums[bs + 11]);
            int p3 = (int) mins[m + 6] * (bsums[bs + 12] + bsums[bs + 13]) + (int) mins[m + 7] * (bsums[bs + 14] + bsums[bs + 15]);
            if (order == Order.Q4_K) {
                m0 = Math.fma(dmin, (float) p0, m0);
                m1 = Math.fma(dmin, (float) p1, m1);
                m2 = Math.fma(dmin, (float) p2, m2);
                m3 = Math.fma(dmin, (float) p3, m3);
            } else {
                // summs += dmin * sum: gcc contracts it into one FMA (-ffp-contract=fast, -march=native)
                summs = Math.fma(dmin, (float) (p0 + p1 + p2 + p3), summs);
            }
        }
        return order == Order.Q4_K ? s + ((m0 + m2) + (m1 + m3)) : s + summs;
    }
}
