package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

/**
 * IQ4_NL ({@code block_iq4_nl}: fp16 d, qs[16] of 4-bit indices into the non-linear table
 * {@code kvalues_iq4nl}, packed like Q4_0; 4.5 bpw). x ≈ d·kvalues[q]. llama-quantize uses it as the
 * fallback for Q2_K/Q3_K tensors whose rows are not a multiple of 256.
 *
 * <p>{@code quantize_iq4_nl} calls {@code quantize_row_iq4_nl_impl(32, 32, …, ntry = 7)} per block with
 * or without an imatrix (not {@code quantize_row_iq4_nl_ref}, which passes ntry -1): weights x² (or
 * qw·sqrt(σ² + x²) with σ² = 2·Σx²/32 of the block), start d = max/127 with nearest-table-value
 * indices, try 15 more scales id = (itry - 127)/max, keep the best weighted fit, then re-pick every
 * index with the unrounded best d. Sub-blocks below 1e-15 get d = 0 and index 8 (the value 1).
 */
final class IQ4_NLCodec extends BlockCodec {
    static final int QK = GgmlType.IQ4_NL.blockSize;
    static final int BLOCK_BYTES = GgmlType.IQ4_NL.typeSize;
    static final byte[] KVALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    private static final int NTRY = 7;

    IQ4_NLCodec() {
        super(GgmlType.IQ4_NL, 0 /* d */);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        byte[] L = new byte[QK];
        float[] weight = new float[QK];
        int nb = n / QK;
        int ib = 0;
        if (nb >= LaneSearch.LANES) {
            // Eight blocks at a time, one per SIMD lane, bit-identical to quantizeBlock (LaneSearchTest).
            float[] xt = new float[QK * 8], wt = new float[QK * 8], Lt = new float[QK * 8], scales = new float[8];
            float[] w8 = new float[QK * 8];
            byte[] L8 = new byte[QK * 8];
            float[] st = new float[LaneSearch.STATE];
            for (; ib + 8 <= nb; ib += 8) {
                int bx = xo + ib * QK;
                for (int b = 0; b < 8; b++) weights(x, bx + b * QK, qw, ib * QK + b * QK, w8, b * QK);
                LaneSearch.transpose(x, bx, QK, 8, xt);
                LaneSearch.transpose(w8, 0, QK, 8, wt);
                LaneSearch.iq4nl(xt, wt, Lt, scales, st);
                LaneSearch.untranspose(Lt, QK, 8, L8, 0);
                for (int b = 0; b < 8; b++) {
                    int by = (ib + b) * BLOCK_BYTES;
                    putFp16(y, by, scales[b]);
                    for (int j = 0; j < 16; ++j) y[by + 2 + j] = (byte) (L8[b * QK + j] | (L8[b * QK + 16 + j] << 4));
                }
            }
        }
        for (; ib < nb; ib++) {
            quantizeBlock(x, xo + ib * QK, y, ib * BLOCK_BYTES, qw, ib * QK, weight, L);
        }
    }

    /** The search weights of one block: x², or with an imatrix qw·sqrt(σ² + x²), σ² = 2·Σx²/32 of the block. */
    private static void weights(float[] x, int bx, float[] qw, int qo, float[] weight, int wo) {
        if (qw != null) {
            float sigma2 = 0;
            for (int j = 0; j < QK; ++j) sigma2 += x[bx + j] * x[bx + j];
            sigma2 *= 2.f / QK;
            for (int j = 0; j < QK; ++j) weight[wo + j] = qw[qo + j] * (float) Math.sqrt(sigma2 + x[bx + j] * x[bx + j]);
        } else {
            for (int j = 0; j < QK; ++j) weight[wo + j] = x[bx + j] * x[bx + j];
        }
    }

    /** The scalar port, used for the blocks left over after the groups of eight (and as the lanes' reference in tests). */
    static void quantizeBlockScalar(float[] x, int bx, byte[] y, int by, float[] qw, int qo) {
        quantizeBlock(x, bx, y, by, qw, qo, new float[QK], new byte[QK]);
    }

    /** {@code quantize_row_iq4_nl_impl} with super_block_size = block_size = 32 and ntry = 7. */
    private static void quantizeBlock(float[] x, int bx, byte[] y, int by, float[] qw, int qo, float[] weight, byte[] L) {
        for (int j = 0; j < QK / 2; j++) y[by + 2 + j] = 0;
        float scale;
        weights(x, bx, qw, qo, weight, 0);
        float amax = 0, max = 0;
        for (int j = 0; j < QK; ++j) {
            float ax = Math.abs(x[bx + j]);
            if (ax > amax) {
                amax = ax;
                max = x[bx + j];
            }
        }
        if (amax < QuantSearch.GROUP_MAX_EPS) {
            scale = 0;
        } else {
            float d = -max / KVALUES[0];
            float id = 1 / d;
            float sumqx = 0, sumq2 = 0;
            for (int j = 0; j < QK; ++j) {
                float al = id * x[bx + j];
                int l = QuantSearch.bestIndexInt8(16, KVALUES, al);
                L[j] = (byte) l;
                float q = KVALUES[l];
                float w = weight[j];
                sumqx += w * q * x[bx + j];
                sumq2 += w * q * q;
            }
            d = sumqx / sumq2;
            float best = d * sumqx;
            for (int itry = -NTRY; itry <= NTRY; ++itry) {
                id = (itry + KVALUES[0]) / max;
                sumqx = sumq2 = 0;
                for (int j = 0; j < QK; ++j) {
                    float al = id * x[bx + j];
                    int l = QuantSearch.bestIndexInt8(16, KVALUES, al);
                    float q = KVALUES[l];
                    float w = weight[j];
                    sumqx += w * q * x[bx + j];
                    sumq2 += w * q * q;
                }
                if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                    d = sumqx / sumq2;
                    best = d * sumqx;
                }
            }
            scale = d;
        }
        putFp16(y, by, scale);
        float id = scale != 0 ? 1 / scale : 0;
        for (int j = 0; j < QK; ++j) L[j] = (byte) QuantSearch.bestIndexInt8(16, KVALUES, id * x[bx + j]);
        for (int j = 0; j < 16; ++j) y[by + 2 + j] = (byte) (L[j] | (L[16 + j] << 4));
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int ib = 0, nb = n / QK; ib < nb; ib++) {
            int by = ib * BLOCK_BYTES;
            int bx = xo + ib * QK;
            float d = getFp16(y, by);
            for (int j = 0; j < QK / 2; ++j) {
                int q = y[by + 2 + j] & 0xFF;
                x[bx + j] = d * KVALUES[q & 0xF];
                x[bx + j + QK / 2] = d * KVALUES[q >> 4];
            }
        }
    }
}
