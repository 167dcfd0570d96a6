package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

import static dev.featherweight.kernels.quant.gguf.QuantSearch.nearestInt;

/**
 * IQ1_S ({@code block_iq1_s}: fp16 d, {@code qs[32]} = low bytes of 11-bit grid indices, {@code qh[8]} little-endian
 * uint16 = per 32 weights four 3-bit index tops, a 3-bit scale s (bits 12–14) and the shift sign (bit 15);
 * 50 bytes = 1.5625 bpw). Each 8 weights are a point of the 2048-point ternary grid ({@link IqGrid#iq1s()}, values
 * −1, 0, 1): x ≈ d·(2s + 1)·(grid ± δ), δ = {@link #DELTA}.
 *
 * <p>Quantization is {@code quantize_row_iq1_s_impl} (importance matrix required): per 32 weights the exact best
 * split of the sorted weights into the three levels (prefix sums over the sort, both shift signs), then each group
 * of 8 snapped to the grid ({@link IqGrid#bestNeighbourShifted}); the stored d is max_scale/15·1.125.
 */
final class IQ1_SCodec extends BlockCodec {
    static final int QK_K = GgmlType.IQ1_S.blockSize;
    static final int BLOCK_BYTES = GgmlType.IQ1_S.typeSize;
    /** IQ1S_DELTA. */
    static final float DELTA = 0.125f;
    private static final int QS = 2, QH = 34, BLOCK = 32;
    private static final float GROUP_MAX_EPS_IQ1_S = 1e-12f;
    private static final float[] X_P = {-1 + DELTA, DELTA, 1 + DELTA};
    private static final float[] X_M = {-1 - DELTA, -DELTA, 1 - DELTA};
    private static final float[] VALUES = IqSigns.gridValues(IqGrid.iq1s(), IqSigns.IQ1_VALUES);

    IQ1_SCodec() {
        super(GgmlType.IQ1_S, 0 /* d */);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        if (qw == null) throw new ImportanceMatrixRequiredException(type());
        IqGrid grid = IqGrid.iq1s();
        float[] scales = new float[QK_K / BLOCK];
        int[] shifts = new int[QK_K / BLOCK];
        float[] weight = new float[BLOCK];
        byte[] L = new byte[BLOCK];
        float[] sumx = new float[BLOCK + 1];
        float[] sumw = new float[BLOCK + 1];
        int[] idx = new int[BLOCK];
        int[] index = new int[BLOCK / 8];
        for (int ibl = 0, nbl = n / QK_K; ibl < nbl; ++ibl) {
            int by = ibl * BLOCK_BYTES;
            java.util.Arrays.fill(y, by, by + BLOCK_BYTES, (byte) 0);
            float maxScale = 0;
            int xbl = xo + QK_K * ibl;
            float sumx2 = 0;
            for (int i = 0; i < QK_K; ++i) sumx2 += x[xbl + i] * x[xbl + i];
            float sigma2 = 2 * sumx2 / QK_K;
            for (int ib = 0; ib < QK_K / BLOCK; ++ib) {
                int xb = xbl + BLOCK * ib;
                int qo = QK_K * ibl + BLOCK * ib;
                for (int i = 0; i < BLOCK; ++i) weight[i] = qw[qo + i] * (float) Math.sqrt(sigma2 + x[xb + i] * x[xb + i]);
                float max = Math.abs(x[xb]);
                for (int i = 1; i < BLOCK; ++i) max = Math.max(max, Math.abs(x[xb + i]));
                if (max < GROUP_MAX_EPS_IQ1_S) {
                    scales[ib] = 0;
                    shifts[ib] = 1;
                    continue;
                }
                // The exact weighted least-squares split into the levels −1, 0, 1: sort, then every pair of boundaries.
                IqSigns.sortIndices(x, xb, BLOCK, idx);
                sumx[0] = sumw[0] = 0;
                for (int j = 0; j < BLOCK; ++j) {
                    int i = idx[j];
                    sumx[j + 1] = sumx[j] + weight[i] * x[xb + i];
                    sumw[j + 1] = sumw[j] + weight[i];
                }
                float bestScore = -Float.MAX_VALUE, scale = max;
                int besti1 = -1, besti2 = -1, bestShift = 0;
                for (int i1 = 0; i1 <= BLOCK; ++i1) {
                    for (int i2 = i1; i2 <= BLOCK; ++i2) {
                        float sumqx = (sumx[i1] - sumx[0]) * X_P[0] + (sumx[i2] - sumx[i1]) * X_P[1] + (sumx[BLOCK] - sumx[i2]) * X_P[2];
                        float sumq2 = (sumw[i1] - sumw[0]) * X_P[0] * X_P[0] + (sumw[i2] - sumw[i1]) * X_P[1] * X_P[1]
                                + (sumw[BLOCK] - sumw[i2]) * X_P[2] * X_P[2];
                        if (sumq2 > 0 && sumqx * sumqx > bestScore * sumq2) {
                            scale = sumqx / sumq2;
                            bestScore = scale * sumqx;
                            besti1 = i1;
                            besti2 = i2;
                            bestShift = 1;
                        }
                        sumqx = (sumx[i1] - sumx[0]) * X_M[0] + (sumx[i2] - sumx[i1]) * X_M[1] + (sumx[BLOCK] - sumx[i2]) * X_M[2];
                        sumq2 = (sumw[i1] - sumw[0]) * X_M[0] * X_M[0] + (sumw[i2] - sumw[i1]) * X_M[1] * X_M[1]
                                + (sumw[BLOCK] - sumw[i2]) * X_M[2] * X_M[2];
                        if (sumq2 > 0 && sumqx * sumqx > bestScore * sumq2) {
                            scale = sumqx / sumq2;
                            bestScore = scale * sumqx;
                            besti1 = i1;
                            besti2 = i2;
                            bestShift = -1;
                        }
                    }
                }
                if (besti1 < 0 || besti2 < 0 || bestShift == 0) {
                    scales[ib] = 0;
                    shifts[ib] = 1;
                    continue;
                }
                for (int j = 0; j < besti1; ++j) L[idx[j]] = 0;
                for (int j = besti1; j < besti2; ++j) L[idx[j]] = 1;
                for (int j = besti2; j < BLOCK; ++j) L[idx[j]] = 2;
                if (scale < 0) {
                    for (int j = 0; j < BLOCK; ++j) L[j] = (byte) (2 - L[j]);
                    scale = -scale;
                    bestShift = -bestShift;
                }
                boolean allOnGrid = true;
                float[] xx = bestShift == 1 ? X_P : X_M;
                for (int k = 0; k < BLOCK / 8; ++k) {
                    int u = IqGrid.pack(L, 8 * k);
                    int g = grid.indexOf(u);
                    if (g < 0) {
                        allOnGrid = false;
                        g = grid.bestNeighbourShifted(u, x, xb + 8 * k, weight, 8 * k, scale, xx, L, 8 * k);
                    }
                    index[k] = g;
                }
                if (!allOnGrid) {
                    float sumqx = 0, sumq2 = 0;
                    for (int k = 0; k < BLOCK / 8; ++k) {
                        for (int j = 0; j < 8; ++j) {
                            float w = weight[8 * k + j];
                            float q = xx[grid.levels[8 * index[k] + j]];
                            sumqx += w * q * x[xb + 8 * k + j];
                            sumq2 += w * q * q;
                        }
                    }
                    if (sumqx > 0 && sumq2 > 0) scale = sumqx / sumq2;
                }
                int h = 0;
                for (int k = 0; k < BLOCK / 8; ++k) {
                    y[by + QS + (BLOCK / 8) * ib + k] = (byte) index[k];
                    h |= (index[k] >> 8) << 3 * k;
                }
                putShort(y, by + QH + 2 * ib, (short) h);
                scales[ib] = scale;
                shifts[ib] = bestShift;
                maxScale = Math.max(maxScale, scale);
            }
            if (maxScale == 0) continue;
            float d = maxScale / 15;
            putFp16(y, by, d * 1.125f);
            float id = 1 / d;
            for (int ib = 0; ib < QK_K / BLOCK; ++ib) {
                int l = nearestInt(0.5f * (id * scales[ib] - 1));
                l = Math.max(0, Math.min(7, l));
                if (shifts[ib] == -1) l |= 8;
                putShort(y, by + QH + 2 * ib, (short) (getShort(y, by + QH + 2 * ib) | l << 12));
            }
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int ibl = 0, nbl = n / QK_K; ibl < nbl; ++ibl) {
            int by = ibl * BLOCK_BYTES;
            float d = getFp16(y, by);
            for (int ib = 0; ib < QK_K / BLOCK; ++ib) {
                int qh = getShort(y, by + QH + 2 * ib) & 0xFFFF;
                float dl = d * (2 * ((qh >> 12) & 7) + 1);
                float delta = (qh & 0x8000) != 0 ? -DELTA : DELTA;
                int out = xo + ibl * QK_K + BLOCK * ib;
                for (int l = 0; l < 4; ++l) {
                    int g = (y[by + QS + 4 * ib + l] & 0xFF) | ((qh >> 3 * l) & 7) << 8;
                    for (int j = 0; j < 8; ++j) x[out + 8 * l + j] = dl * (VALUES[8 * g + j] + delta);
                }
            }
        }
    }
}
