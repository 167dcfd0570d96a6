package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.VectorWidth;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static dev.featherweight.kernels.quant.gguf.QuantSearch.nearestInt;

/**
 * Q6_K ({@code block_q6_K}, 256 weights in 16 sub-blocks of 16, 210 bytes = 6.5625 bpw): {@code ql[128]}
 * (low nibbles), {@code qh[64]} (top 2 bits), {@code scales[16]} int8, fp16 {@code d}. x ≈ d·sc·(q-32).
 * <ul>
 * <li>No imatrix, {@code quantize_row_q6_K_ref}: per sub-block make_qx_quants(16, 32, rmse 1) (weights
 *     x²); int8 scales against the signed scale of largest magnitude (iscale -128/max); a super-block
 *     whose scales are all below 1e-15 is written as zeros.</li>
 * <li>Imatrix, {@code quantize_row_q6_K_impl}: the same with the imatrix values themselves as the
 *     make_qx_quants weights (no σ² term).</li>
 * </ul>
 */
final class Q6_KCodec extends BlockCodec {
    static final int QK_K = GgmlType.Q6_K.blockSize;
    static final int BLOCK_BYTES = GgmlType.Q6_K.typeSize;
    private static final int QL = 0, QH = 128, SCALES = 192, D = 208;
    private static final VectorSpecies<Float> F = VectorWidth.FLOATS;
    private static final VectorSpecies<Byte> B = VectorWidth.BYTES;
    private static final int L = F.length(), BL = B.length(), PARTS = VectorWidth.BYTE_PARTS;

    Q6_KCodec() {
        super(GgmlType.Q6_K, D);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        byte[] L = new byte[QK_K];
        float[] scales = new float[QK_K / 16];
        float[] xt = new float[128];
        float[] wt = new float[128];
        float[] st = new float[LaneSearch.STATE];
        int[] tmp = new int[LaneSearch.LANES];
        float[] Lt = new float[128];
        float[] Laux = new float[128];
        for (int i = 0, nb = n / QK_K; i < nb; i++) {
            int bx = xo + i * QK_K;
            int by = i * BLOCK_BYTES;
            float maxScale = 0;
            float maxAbsScale = 0;
            // Sixteen sub-blocks of 16, searched eight at a time, one per SIMD lane; weights x² or the imatrix.
            for (int g = 0; g < 2; g++) {
                LaneSearch.transpose(x, bx + 128 * g, 16, 8, xt);
                if (qw != null) LaneSearch.transpose(qw, QK_K * i + 128 * g, 16, 8, wt);
                LaneSearch.makeQxQuants(16, 32, xt, qw == null ? null : wt, Lt, Laux, scales, 8 * g, st);
                LaneSearch.untranspose(Lt, 16, 8, L, 128 * g);
            }
            for (int ib = 0; ib < QK_K / 16; ++ib) {
                float scale = scales[ib];
                float absScale = Math.abs(scale);
                if (absScale > maxAbsScale) {
                    maxAbsScale = absScale;
                    maxScale = scale;
                }
            }
            if (maxAbsScale < QuantSearch.GROUP_MAX_EPS) {
                for (int k = 0; k < BLOCK_BYTES; k++) y[by + k] = 0;
                putFp16(y, by + D, 0.f);
                continue;
            }
            float iscale = -128.f / maxScale;
            putFp16(y, by + D, 1 / iscale);
            for (int ib = 0; ib < QK_K / 16; ++ib) {
                y[by + SCALES + ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
            }
            float dAll = getFp16(y, by + D);
            for (int j = 0; j < QK_K / 16; ++j) {
                float d = dAll * y[by + SCALES + j];
                if (d == 0) continue;
                LaneSearch.requantize(x, bx + 16 * j, 16, 0f, d, -32, 31, 32, L, 16 * j, tmp);
            }
            int ql = by + QL, qh = by + QH;
            for (int j = 0; j < QK_K; j += 128) {
                for (int l = 0; l < 32; ++l) {
                    int q1 = L[j + l] & 0xF;
                    int q2 = L[j + l + 32] & 0xF;
                    int q3 = L[j + l + 64] & 0xF;
                    int q4 = L[j + l + 96] & 0xF;
                    y[ql + l] = (byte) (q1 | (q3 << 4));
                    y[ql + l + 32] = (byte) (q2 | (q4 << 4));
                    y[qh + l] = (byte) ((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4)
                            | ((L[j + l + 96] >> 4) << 6));
                }
                ql += 64;
                qh += 32;
            }
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int i = 0, nb = n / QK_K; i < nb; i++) {
            int by = i * BLOCK_BYTES;
            float d = getFp16(y, by + D);
            int ql = by + QL, qh = by + QH, sc = by + SCALES;
            int out = xo + i * QK_K;
            for (int nn = 0; nn < QK_K; nn += 128) {
                for (int l = 0; l < 32; ++l) {
                    int is = l / 16;
                    int h = y[qh + l] & 0xFF;
                    int q1 = (byte) ((y[ql + l] & 0xF) | (((h >> 0) & 3) << 4)) - 32;
                    int q2 = (byte) ((y[ql + l + 32] & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                    int q3 = (byte) (((y[ql + l] & 0xFF) >> 4) | (((h >> 4) & 3) << 4)) - 32;
                    int q4 = (byte) (((y[ql + l + 32] & 0xFF) >> 4) | (((h >> 6) & 3) << 4)) - 32;
                    x[out + l] = d * y[sc + is] * q1;
                    x[out + l + 32] = d * y[sc + is + 2] * q2;
                    x[out + l + 64] = d * y[sc + is + 4] * q3;
                    x[out + l + 96] = d * y[sc + is + 6] * q4;
                }
                out += 128;
                ql += 64;
                qh += 32;
                sc += 8;
            }
        }
    }

    /** Vectorized row decode: 16 weights share one scale, so each byte vector (≤ 16 lanes) is (d·sc) · q. */
    @Override
    public void decodeRow(MemorySegment src, long srcOff, float[] dst, int off, int n) {
        byte[] b = rowBuffer(src, srcOff, n);
        for (int blk = 0, nb = n / QK_K; blk < nb; blk++) {
            int o = blk * BLOCK_BYTES, yo = off + blk * QK_K;
            float d = getFp16(b, o + D);
            int ql = o + QL, qh = o + QH, sc = o + SCALES;
            for (int half = 0; half < 2; half++, yo += 128, ql += 64, qh += 32, sc += 8) {
                for (int l = 0; l < 32; l += BL) {
                    int g = l / 16; // 16 weights share a scale
                    ByteVector lo = ByteVector.fromArray(B, b, ql + l), lo2 = ByteVector.fromArray(B, b, ql + l + 32);
                    ByteVector h = ByteVector.fromArray(B, b, qh + l);
                    ByteVector q1 = lo.and((byte) 0xF).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q2 = lo2.and((byte) 0xF).or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q3 = lo.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).or(h.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q4 = lo2.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).or(h.lanewise(VectorOperators.LSHR, 6).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    for (int p = 0; p < PARTS; p++) ((FloatVector) q1.convertShape(VectorOperators.B2F, F, p)).mul(d * b[sc + g]).intoArray(dst, yo + l + p * L);
                    for (int p = 0; p < PARTS; p++) ((FloatVector) q2.convertShape(VectorOperators.B2F, F, p)).mul(d * b[sc + g + 2]).intoArray(dst, yo + l + 32 + p * L);
                    for (int p = 0; p < PARTS; p++) ((FloatVector) q3.convertShape(VectorOperators.B2F, F, p)).mul(d * b[sc + g + 4]).intoArray(dst, yo + l + 64 + p * L);
                    for (int p = 0; p < PARTS; p++) ((FloatVector) q4.convertShape(VectorOperators.B2F, F, p)).mul(d * b[sc + g + 6]).intoArray(dst, yo + l + 96 + p * L);
                }
            }
        }
    }
}
