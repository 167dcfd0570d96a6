package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static dev.featherweight.kernels.quant.gguf.QuantSearch.nearestInt;

/**
 * Q4_K ({@code block_q4_K}, 256 weights in 8 sub-blocks of 32, 144 bytes = 4.5 bpw): fp16 {@code d},
 * fp16 {@code dmin}, {@code scales[12]} ({@link KScales}), {@code qs[128]} (chunk c of 64 weights: byte
 * 32c+l = q[64c+l] | q[64c+l+32] &lt;&lt; 4). x ≈ d·sc·q - dmin·m.
 * <ul>
 * <li>No imatrix, {@code quantize_row_q4_K_ref}: weights av_x + |x| (av_x = rms of the sub-block),
 *     make_qkx2_quants(32, 15, rmin -1, rdelta 0.1, 20 steps, squared error), 6-bit scales/mins against
 *     their maxima (uint8 wrap, then min 63).</li>
 * <li>Imatrix, {@code quantize_row_q4_K_impl}: weights qw·sqrt(σ² + x²) with σ² = 2·Σx²/256,
 *     make_qkx3_quants(32, 15, -0.9, 0.05, 36), 6-bit scales/mins by make_qp_quants(8, 63) weighted by
 *     the sub-blocks' summed weights.</li>
 * </ul>
 * Both end by recomputing the quants from the fp16-rounded d/dmin and the packed 6-bit values.
 */
final class Q4_KCodec extends BlockCodec {
    static final int QK_K = GgmlType.Q4_K.blockSize;
    static final int BLOCK_BYTES = GgmlType.Q4_K.typeSize;
    static final int D = 0, DMIN = 2, SCALES = 4, QS = 16;
    private static final VectorSpecies<Float> F = VectorWidth.FLOATS;
    private static final VectorSpecies<Byte> B = VectorWidth.BYTES;
    private static final int L = F.length(), BL = B.length(), PARTS = VectorWidth.BYTE_PARTS;

    Q4_KCodec() {
        super(GgmlType.Q4_K, D, DMIN);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        byte[] L = new byte[QK_K];
        if (qw == null) quantizeRefScales(x, xo, n, y, L, 15, -1.f, 0.1f, 20, BLOCK_BYTES, this::finishBlock);
        else quantizeImplScales(x, xo, n, y, qw, L, 15, false, BLOCK_BYTES, this::finishBlock);
    }

    /** What a K-quant with 6-bit scale/min pairs does with one super-block once d, dmin and scales are stored. */
    @FunctionalInterface
    interface BlockFinisher {
        void finish(float[] x, int bx, byte[] y, int by, byte[] L);
    }

    /**
     * The scale search shared by {@code quantize_row_q4_K_ref} and {@code quantize_row_q5_K_ref}
     * (they differ in nmax and the make_qkx2_quants grid only).
     */
    static void quantizeRefScales(float[] x, int xo, int n, byte[] y, byte[] L, int nmax, float rmin, float rdelta,
                                  int nstep, int blockBytes, BlockFinisher finisher) {
        float[] xt = new float[QK_K];
        float[] wt = new float[QK_K];
        float[] st = new float[LaneSearch.STATE];
        float[] Lt = new float[QK_K];
        float[] Laux = new float[QK_K];
        float[] mins = new float[QK_K / 32];
        float[] scales = new float[QK_K / 32];
        for (int i = 0, nb = n / QK_K; i < nb; i++) {
            int bx = xo + i * QK_K;
            int by = i * blockBytes;
            // The eight sub-blocks run side by side, one per SIMD lane (same float order per lane as the C loop).
            LaneSearch.transpose(x, bx, 32, 8, xt);
            for (int h = 0; h < LaneSearch.LANES; h += LaneSearch.W) {
                FloatVector sumX2 = FloatVector.zero(LaneSearch.F);
                for (int l = 0; l < 32; ++l) {
                    FloatVector xl = FloatVector.fromArray(LaneSearch.F, xt, l * LaneSearch.LANES + h);
                    sumX2 = sumX2.add(xl.mul(xl));
                }
                FloatVector avX = sumX2.div(32f).sqrt();
                for (int l = 0; l < 32; ++l) {
                    avX.add(FloatVector.fromArray(LaneSearch.F, xt, l * LaneSearch.LANES + h).abs()).intoArray(wt, l * LaneSearch.LANES + h);
                }
            }
            LaneSearch.makeQkx2Quants(32, nmax, xt, wt, Lt, Laux, scales, mins, 0, rmin, rdelta, nstep, false, st);
            LaneSearch.untranspose(Lt, 32, 8, L, 0);
            float maxScale = 0;
            float maxMin = 0;
            for (int j = 0; j < QK_K / 32; ++j) {
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
            float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
            for (int j = 0; j < QK_K / 32; ++j) {
                int ls = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);
                int lm = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
                KScales.put(y, by + SCALES, j, ls, lm);
            }
            putFp16(y, by + D, maxScale / 63.f);
            putFp16(y, by + DMIN, maxMin / 63.f);
            finisher.finish(x, bx, y, by, L);
        }
    }

    /** The imatrix search shared by {@code quantize_row_q4_K_impl} and {@code quantize_row_q5_K_impl}. */
    static void quantizeImplScales(float[] x, int xo, int n, byte[] y, float[] qw, byte[] L, int nmax, boolean clamp63, int blockBytes,
                                   BlockFinisher finisher) {
        byte[] Ls = new byte[QK_K / 32];
        byte[] Lm = new byte[QK_K / 32];
        float[] weights = new float[QK_K];
        float[] xt = new float[QK_K];
        float[] wt = new float[QK_K];
        float[] Lt = new float[QK_K];
        float[] LauxT = new float[QK_K];
        float[] st = new float[LaneSearch.STATE];
        float[] sw = new float[QK_K / 32];
        float[] mins = new float[QK_K / 32];
        float[] scales = new float[QK_K / 32];
        for (int i = 0, nb = n / QK_K; i < nb; i++) {
            int bx = xo + i * QK_K;
            int by = i * blockBytes;
            float sumX2 = 0;
            for (int l = 0; l < QK_K; ++l) sumX2 += x[bx + l] * x[bx + l];
            float sigma2 = 2 * sumX2 / QK_K;
            for (int j = 0; j < QK_K / 32; ++j) {
                int qo = QK_K * i + 32 * j;
                for (int l = 0; l < 32; ++l) {
                    float xl = x[bx + 32 * j + l];
                    weights[32 * j + l] = qw[qo + l] * (float) Math.sqrt(sigma2 + xl * xl);
                }
                float sumw = 0;
                for (int l = 0; l < 32; ++l) sumw += weights[32 * j + l];
                sw[j] = sumw;
            }
            // make_qkx3_quants(32, nmax, …, -0.9, 0.05, 36) for the eight sub-blocks side by side. With weights
            // given it is make_qkx2_quants' algorithm (its "max <= min" test equals "max == min" since min <= max).
            LaneSearch.transpose(x, bx, 32, 8, xt);
            LaneSearch.transpose(weights, 0, 32, 8, wt);
            LaneSearch.makeQkx2Quants(32, nmax, xt, wt, Lt, LauxT, scales, mins, 0, -0.9f, 0.05f, 36, false, st);
            LaneSearch.untranspose(Lt, 32, 8, L, 0);
            float dBlock = QuantSearch.makeQpQuants(QK_K / 32, 63, scales, Ls, sw);
            float mBlock = QuantSearch.makeQpQuants(QK_K / 32, 63, mins, Lm, sw);
            for (int j = 0; j < QK_K / 32; ++j) {
                // Q5_K clamps to 63 here, Q4_K does not (a uint8 that wrapped from a negative quant stays 255).
                int ls = Ls[j] & 0xFF;
                int lm = Lm[j] & 0xFF;
                if (clamp63) {
                    ls = Math.min(63, ls);
                    lm = Math.min(63, lm);
                }
                KScales.put(y, by + SCALES, j, ls, lm);
            }
            putFp16(y, by + D, dBlock);
            putFp16(y, by + DMIN, mBlock);
            finisher.finish(x, bx, y, by, L);
        }
    }

    /** Final 4-bit quants from the stored scales (sub-blocks with zero scale keep the search's L), then packing. */
    private void finishBlock(float[] x, int bx, byte[] y, int by, byte[] L) {
        requantize(x, bx, y, by, L, 15);
        for (int j = 0, q = by + QS; j < QK_K; j += 64, q += 32) {
            for (int l = 0; l < 32; ++l) y[q + l] = (byte) (L[j + l] | (L[j + l + 32] << 4));
        }
    }

    static void requantize(float[] x, int bx, byte[] y, int by, byte[] L, int nmax) {
        int[] tmp = new int[LaneSearch.LANES];
        float dAll = getFp16(y, by + D);
        float mAll = getFp16(y, by + DMIN);
        for (int j = 0; j < QK_K / 32; ++j) {
            float d = dAll * KScales.scale(y, by + SCALES, j);
            if (d == 0) continue;
            float dm = mAll * KScales.min(y, by + SCALES, j);
            LaneSearch.requantize(x, bx + 32 * j, 32, dm, d, 0, nmax, 0, L, 32 * j, tmp);
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        int out = xo;
        for (int i = 0, nb = n / QK_K; i < nb; i++) {
            int by = i * BLOCK_BYTES;
            float d = getFp16(y, by + D);
            float min = getFp16(y, by + DMIN);
            int q = by + QS;
            int is = 0;
            for (int j = 0; j < QK_K; j += 64) {
                float d1 = d * KScales.scale(y, by + SCALES, is), m1 = min * KScales.min(y, by + SCALES, is);
                float d2 = d * KScales.scale(y, by + SCALES, is + 1), m2 = min * KScales.min(y, by + SCALES, is + 1);
                for (int l = 0; l < 32; ++l) x[out++] = d1 * (y[q + l] & 0xF) - m1;
                for (int l = 0; l < 32; ++l) x[out++] = d2 * ((y[q + l] & 0xFF) >> 4) - m2;
                q += 32;
                is += 2;
            }
        }
    }

    /** Vectorized row decode: per 32-weight sub-block, nibble vectors · (d·sc) − dmin·m (exact at any width). */
    @Override
    public void decodeRow(MemorySegment src, long srcOff, float[] dst, int off, int n) {
        byte[] b = rowBuffer(src, srcOff, n);
        for (int blk = 0, nb = n / QK_K; blk < nb; blk++) {
            int o = blk * BLOCK_BYTES, yo = off + blk * QK_K;
            float d = getFp16(b, o + D), min = getFp16(b, o + DMIN);
            int so = o + SCALES, q = o + QS;
            for (int is = 0; is < 8; is += 2, q += 32, yo += 64) {
                FloatVector d1 = FloatVector.broadcast(F, d * KScales.scale(b, so, is)), m1 = FloatVector.broadcast(F, min * KScales.min(b, so, is));
                FloatVector d2 = FloatVector.broadcast(F, d * KScales.scale(b, so, is + 1)), m2 = FloatVector.broadcast(F, min * KScales.min(b, so, is + 1));
                for (int h = 0; h < 32; h += BL) {
                    ByteVector v = ByteVector.fromArray(B, b, q + h);
                    ByteVector lo = v.and((byte) 0xF), hi = v.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF);
                    for (int p = 0; p < PARTS; p++) {
                        ((FloatVector) lo.convertShape(VectorOperators.B2F, F, p)).mul(d1).sub(m1).intoArray(dst, yo + h + p * L);
                        ((FloatVector) hi.convertShape(VectorOperators.B2F, F, p)).mul(d2).sub(m2).intoArray(dst, yo + 32 + h + p * L);
                    }
                }
            }
        }
    }
}
