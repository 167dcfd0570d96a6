package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

import static dev.featherweight.kernels.quant.gguf.QuantSearch.nearestInt;

/**
 * IQ1_M ({@code block_iq1_m}: {@code qs[32]} = low bytes of 11-bit grid indices, {@code qh[16]} = per 16 weights
 * two 3-bit index tops with a shift-sign bit each (0x08, 0x80), {@code scales[8]} = four little-endian uint16 each
 * holding four 3-bit sub-block scales and 4 bits of the fp16 super-scale d; 56 bytes = 1.75 bpw). Each 8 weights are
 * a point of the IQ1 grid ({@link IqGrid#iq1s()}): x ≈ d·(2s + 1)·(grid ± δ), δ = {@link IQ1_SCodec#DELTA}.
 *
 * <p>Quantization is {@code quantize_row_iq1_m_impl} as of the llama.cpp snapshot we match: per 16 weights the best
 * split of the sorted weights into three levels with an independent shift sign per half (four sign combinations,
 * sums accumulated in sorted order for every split), the groups snapped to the grid, then d refitted over the whole
 * super-block and stored ×1.1125. Without an importance matrix the weights are x² (llama-quantize still requires one
 * except for token_embd/output).
 */
final class IQ1_MCodec extends BlockCodec {
    static final int QK_K = GgmlType.IQ1_M.blockSize;
    static final int BLOCK_BYTES = GgmlType.IQ1_M.typeSize;
    private static final int QS = 0, QH = 32, SCALES = 48, BLOCK = 16;
    private static final float GROUP_MAX_EPS_IQ1_M = 1e-7f;
    private static final float DELTA = IQ1_SCodec.DELTA;
    private static final float[] X_P = {-1 + DELTA, DELTA, 1 + DELTA};
    private static final float[] X_M = {-1 - DELTA, -DELTA, 1 - DELTA};
    /** qh bits of the shift combination k (0: +,+  1: +,−  2: −,+  3: −,−). */
    private static final int[] MASKS = {0x00, 0x80, 0x08, 0x88};
    private static final float[] VALUES = IqSigns.gridValues(IqGrid.iq1s(), IqSigns.IQ1_VALUES);

    IQ1_MCodec() {
        // The fp16 d is spread over the top nibbles of scales[]: ggml_validate_row_data checks nothing for IQ1_M.
        super(GgmlType.IQ1_M);
    }

    /** The level values of group k (0: first 8 weights, 1: second) under shift combination shift. */
    private static float[] levels(int shift, int k) {
        if (k == 0) return shift < 2 ? X_P : X_M;
        return shift % 2 == 0 ? X_P : X_M;
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        IqGrid grid = IqGrid.iq1s();
        float[] scales = new float[QK_K / BLOCK];
        int[] shifts = new int[QK_K / BLOCK];
        float[] weight = new float[BLOCK];
        byte[] L = new byte[BLOCK];
        int[] idx = new int[BLOCK];
        int[] index = new int[BLOCK / 8];
        SplitSearch split = new SplitSearch();
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
                weights(x, xb, qw, QK_K * ibl + BLOCK * ib, sigma2, weight);
                float max = Math.abs(x[xb]);
                for (int i = 1; i < BLOCK; ++i) max = Math.max(max, Math.abs(x[xb + i]));
                if (max < GROUP_MAX_EPS_IQ1_M) {
                    scales[ib] = 0;
                    shifts[ib] = 0;
                    continue;
                }
                IqSigns.sortIndices(x, xb, BLOCK, idx);
                if (!split.search(x, xb, weight, idx, max)) {
                    scales[ib] = 0;
                    shifts[ib] = 0;
                    continue;
                }
                float scale = split.scale;
                int bestK = split.bestK;
                for (int j = 0; j < split.besti1; ++j) L[idx[j]] = 0;
                for (int j = split.besti1; j < split.besti2; ++j) L[idx[j]] = 1;
                for (int j = split.besti2; j < BLOCK; ++j) L[idx[j]] = 2;
                if (scale < 0) {
                    for (int j = 0; j < BLOCK; ++j) L[j] = (byte) (2 - L[j]);
                    scale = -scale;
                    bestK = 3 - bestK;
                }
                boolean allOnGrid = true;
                for (int k = 0; k < BLOCK / 8; ++k) {
                    int u = IqGrid.pack(L, 8 * k);
                    int g = grid.indexOf(u);
                    if (g < 0) {
                        allOnGrid = false;
                        g = grid.bestNeighbourShifted(u, x, xb + 8 * k, weight, 8 * k, scale, levels(bestK, k), L, 8 * k);
                    }
                    index[k] = g;
                }
                if (!allOnGrid) {
                    float sumqx = 0, sumq2 = 0;
                    for (int k = 0; k < BLOCK / 8; ++k) {
                        float[] xx = levels(bestK, k);
                        for (int j = 0; j < 8; ++j) {
                            float w = weight[8 * k + j];
                            float q = xx[grid.levels[8 * index[k] + j]];
                            sumqx += w * q * x[xb + 8 * k + j];
                            sumq2 += w * q * q;
                        }
                    }
                    if (sumqx > 0 && sumq2 > 0) scale = sumqx / sumq2;
                }
                y[by + QS + 2 * ib] = (byte) index[0];
                y[by + QS + 2 * ib + 1] = (byte) index[1];
                y[by + QH + ib] = (byte) ((index[0] >> 8) | (index[1] >> 8) << 4);
                scales[ib] = scale;
                shifts[ib] = bestK;
                maxScale = Math.max(maxScale, scale);
            }
            if (maxScale == 0) continue;
            int[] sc = new int[4];
            float d = maxScale / 15;
            float id = 1 / d;
            float sumqx = 0, sumq2 = 0;
            for (int ib = 0; ib < QK_K / BLOCK; ++ib) {
                int l = nearestInt(0.5f * (id * scales[ib] - 1));
                l = Math.max(0, Math.min(7, l));
                sc[ib / 4] |= l << 3 * (ib % 4);
                y[by + QH + ib] |= (byte) MASKS[shifts[ib]];
                int xb = xbl + BLOCK * ib;
                weights(x, xb, qw, QK_K * ibl + BLOCK * ib, sigma2, weight);
                int qh = y[by + QH + ib] & 0xFF;
                for (int k = 0; k < BLOCK / 8; ++k) {
                    float[] xx = levels(shifts[ib], k);
                    int g = (y[by + QS + 2 * ib + k] & 0xFF) + ((qh << (8 - 4 * k)) & 0x700);
                    for (int j = 0; j < 8; ++j) {
                        float w = weight[8 * k + j];
                        float q = xx[grid.levels[8 * g + j]] * (2 * l + 1);
                        sumqx += w * q * x[xb + 8 * k + j];
                        sumq2 += w * q * q;
                    }
                }
            }
            if (sumq2 > 0) d = sumqx / sumq2;
            int s = dev.featherweight.kernels.core.HalfFloats.fp32ToFp16(d * 1.1125f) & 0xFFFF;
            sc[0] |= (s & 0x000f) << 12;
            sc[1] |= (s & 0x00f0) << 8;
            sc[2] |= (s & 0x0f00) << 4;
            sc[3] |= s & 0xf000;
            for (int i = 0; i < 4; i++) putShort(y, by + SCALES + 2 * i, (short) sc[i]);
        }
    }

    /** The search weights: qw·sqrt(σ² + x²) with an importance matrix, else x². */
    private static void weights(float[] x, int xb, float[] qw, int qo, float sigma2, float[] weight) {
        if (qw != null) {
            for (int i = 0; i < BLOCK; ++i) weight[i] = qw[qo + i] * (float) Math.sqrt(sigma2 + x[xb + i] * x[xb + i]);
        } else {
            for (int i = 0; i < BLOCK; ++i) weight[i] = x[xb + i] * x[xb + i];
        }
    }

    /**
     * The exhaustive split search of one 16-weight sub-block: for every pair of boundaries i1 ≤ i2 in the sorted
     * order and every shift combination k, Σw·v·x and Σw·v² accumulated over the sorted weights in order (v the
     * level value of the weight's half under k), the best k·split by sumqx²/sumq2 kept (first on ties).
     */
    private static final class SplitSearch {
        float scale;
        int besti1, besti2, bestK;
        private final float[] sumqx = new float[4], sumq2 = new float[4];
        private final float[] head0x = new float[4], head02 = new float[4], head1x = new float[4], head12 = new float[4];
        /** w·v·x and w·v² of sorted weight j at level l under combination k: [(k·3 + l)·16 + j]. */
        private final float[] tx = new float[4 * 3 * BLOCK], t2 = new float[4 * 3 * BLOCK];

        boolean search(float[] x, int xb, float[] weight, int[] idx, float max) {
            for (int j = 0; j < BLOCK; ++j) {
                int i = idx[j];
                for (int k = 0; k < 4; ++k) {
                    float[] v = levels(k, i < BLOCK / 2 ? 0 : 1);
                    for (int l = 0; l < 3; ++l) {
                        tx[(k * 3 + l) * BLOCK + j] = weight[i] * v[l] * x[xb + i];
                        t2[(k * 3 + l) * BLOCK + j] = weight[i] * v[l] * v[l];
                    }
                }
            }
            float bestScore = -Float.MAX_VALUE;
            scale = max;
            besti1 = besti2 = bestK = -1;
            // Each sum is the sequence level-0 terms (j < i1), level-1 terms (i1 ≤ j < i2), level-2 terms (j ≥ i2),
            // added in j order as ggml does. Its first two parts are running sums shared by all splits with the same
            // i1 (and, for the level-1 part, computed incrementally as i2 grows): the same float additions in the same
            // order, so the same bits, with only the level-2 tail added per split.
            java.util.Arrays.fill(head0x, 0);
            java.util.Arrays.fill(head02, 0);
            for (int i1 = 0; i1 <= BLOCK; ++i1) {
                if (i1 > 0) {
                    for (int k = 0; k < 4; ++k) {
                        head0x[k] += tx[k * 3 * BLOCK + i1 - 1];
                        head02[k] += t2[k * 3 * BLOCK + i1 - 1];
                    }
                }
                System.arraycopy(head0x, 0, head1x, 0, 4);
                System.arraycopy(head02, 0, head12, 0, 4);
                for (int i2 = i1; i2 <= BLOCK; ++i2) {
                    for (int k = 0; k < 4; ++k) {
                        int base = k * 3 * BLOCK;
                        if (i2 > i1) {
                            head1x[k] += tx[base + BLOCK + i2 - 1];
                            head12[k] += t2[base + BLOCK + i2 - 1];
                        }
                        float sx = head1x[k], s2 = head12[k];
                        for (int j = i2; j < BLOCK; ++j) {
                            sx += tx[base + 2 * BLOCK + j];
                            s2 += t2[base + 2 * BLOCK + j];
                        }
                        sumqx[k] = sx;
                        sumq2[k] = s2;
                    }
                    for (int k = 0; k < 4; ++k) {
                        if (sumq2[k] > 0 && sumqx[k] * sumqx[k] > bestScore * sumq2[k]) {
                            scale = sumqx[k] / sumq2[k];
                            bestScore = scale * sumqx[k];
                            besti1 = i1;
                            besti2 = i2;
                            bestK = k;
                        }
                    }
                }
            }
            return besti1 >= 0 && besti2 >= 0 && bestK >= 0;
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int ibl = 0, nbl = n / QK_K; ibl < nbl; ++ibl) {
            int by = ibl * BLOCK_BYTES;
            int sc0 = getShort(y, by + SCALES) & 0xFFFF, sc1 = getShort(y, by + SCALES + 2) & 0xFFFF;
            int sc2 = getShort(y, by + SCALES + 4) & 0xFFFF, sc3 = getShort(y, by + SCALES + 6) & 0xFFFF;
            short bits = (short) ((sc0 >> 12) | ((sc1 >> 8) & 0x00f0) | ((sc2 >> 4) & 0x0f00) | (sc3 & 0xf000));
            float d = dev.featherweight.kernels.core.HalfFloats.fp16ToFp32(bits);
            for (int ib = 0; ib < QK_K / 32; ++ib) {
                int sc = getShort(y, by + SCALES + 2 * (ib / 2)) & 0xFFFF;
                float dl1 = d * (2 * ((sc >> (6 * (ib % 2))) & 0x7) + 1);
                float dl2 = d * (2 * ((sc >> (6 * (ib % 2) + 3)) & 0x7) + 1);
                int qh0 = y[by + QH + 2 * ib] & 0xFF, qh1 = y[by + QH + 2 * ib + 1] & 0xFF;
                int out = xo + ibl * QK_K + 32 * ib;
                for (int l = 0; l < 4; ++l) {
                    int qh = l < 2 ? qh0 : qh1;
                    int g = (y[by + QS + 4 * ib + l] & 0xFF) | ((qh << (l % 2 == 0 ? 8 : 4)) & 0x700);
                    float delta = (qh & (l % 2 == 0 ? 0x08 : 0x80)) != 0 ? -DELTA : DELTA;
                    float dl = l < 2 ? dl1 : dl2;
                    for (int j = 0; j < 8; ++j) x[out + 8 * l + j] = dl * (VALUES[8 * g + j] + delta);
                }
            }
        }
    }
}
