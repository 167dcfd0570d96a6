package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

import static dev.featherweight.kernels.quant.gguf.QuantSearch.nearestInt;

/**
 * IQ2_XXS ({@code block_iq2_xxs}: fp16 d, then 8 pairs of little-endian uint32 per 32 weights; 66 bytes =
 * 2.0625 bpw). Per 32 weights: word 0 holds four 8-bit indices into the 256-point grid ({@link IqGrid#iq2xxs()},
 * magnitudes 8, 25, 43), word 1 four 7-bit sign patterns (the eighth sign is the parity, {@link IqSigns}) and a
 * 4-bit scale s: x ≈ d·(0.5 + s)·0.25·grid·sign.
 *
 * <p>Quantization is {@code quantize_row_iq2_xxs_impl} and needs an importance matrix (ggml asserts it):
 * weights qw·sqrt(σ² + x²) with σ² = Σx²/256; signs are folded into |x| (an odd sign count flips the least
 * important weight), a start scale from make_qp_quants, then 13 trial scales whose level vectors are snapped to
 * the grid (nearest neighbour, {@link IqGrid#bestNeighbour}), the best least-squares fit kept.
 */
final class IQ2_XXSCodec extends BlockCodec {
    static final int QK_K = GgmlType.IQ2_XXS.blockSize;
    static final int BLOCK_BYTES = GgmlType.IQ2_XXS.typeSize;
    private static final int K_MAX_Q = 3;
    private static final float[] VALUES = IqSigns.gridValues(IqGrid.iq2xxs(), IqSigns.IQ2_MAGNITUDES);

    IQ2_XXSCodec() {
        super(GgmlType.IQ2_XXS, 0 /* d */);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        if (qw == null) throw new ImportanceMatrixRequiredException(type());
        IqGrid grid = IqGrid.iq2xxs();
        float[] scales = new float[QK_K / 32];
        float[] weight = new float[32];
        float[] xval = new float[32];
        byte[] L = new byte[32];
        byte[] Laux = new byte[32];
        float[] waux = new float[32];
        int[] blockSigns = new int[4];
        int[] q2 = new int[2 * (QK_K / 32)];
        for (int ibl = 0, nbl = n / QK_K; ibl < nbl; ++ibl) {
            int by = ibl * BLOCK_BYTES;
            java.util.Arrays.fill(q2, 0);
            float maxScale = 0;
            int xbl = xo + QK_K * ibl;
            float sumx2 = 0;
            for (int i = 0; i < QK_K; ++i) sumx2 += x[xbl + i] * x[xbl + i];
            float sigma2 = sumx2 / QK_K;
            for (int ib = 0; ib < QK_K / 32; ++ib) {
                int xb = xbl + 32 * ib;
                int qo = QK_K * ibl + 32 * ib;
                for (int i = 0; i < 32; ++i) weight[i] = qw[qo + i] * (float) Math.sqrt(sigma2 + x[xb + i] * x[xb + i]);
                for (int i = 0; i < 32; ++i) waux[i] = (float) Math.sqrt(weight[i]);
                for (int k = 0; k < 4; ++k) blockSigns[k] = IqSigns.foldSigns(x, xb + 8 * k, weight, 8 * k, xval, 8 * k, true);
                float max = xval[0];
                for (int i = 1; i < 32; ++i) max = Math.max(max, xval[i]);
                if (max < QuantSearch.GROUP_MAX_EPS) {
                    scales[ib] = 0;
                    continue;
                }
                float scale = QuantSearch.makeQpQuants(32, K_MAX_Q + 1, xval, L, weight);
                float effMax = scale * K_MAX_Q;
                if (effMax <= 0) {
                    scales[ib] = 0;
                    continue;
                }
                float best = 0;
                for (int is = -6; is <= 6; ++is) {
                    float id = (2 * K_MAX_Q - 1 + is * 0.1f) / effMax;
                    float thisScale = 1 / id;
                    for (int k = 0; k < 4; ++k) {
                        for (int i = 0; i < 8; ++i) {
                            int l = nearestInt(0.5f * (id * xval[8 * k + i] - 1));
                            Laux[8 * k + i] = (byte) Math.max(0, Math.min(K_MAX_Q - 1, l));
                        }
                        int u = IqGrid.pack(Laux, 8 * k);
                        if (grid.indexOf(u) < 0) grid.bestNeighbour(u, xval, 8 * k, waux, 8 * k, thisScale, Laux, 8 * k);
                    }
                    float sumqx = 0, sumq2 = 0;
                    for (int i = 0; i < 32; ++i) {
                        float w = weight[i];
                        float q = 2 * Laux[i] + 1;
                        sumqx += w * xval[i] * q;
                        sumq2 += w * q * q;
                    }
                    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                        scale = sumqx / sumq2;
                        best = scale * sumqx;
                        System.arraycopy(Laux, 0, L, 0, 32);
                    }
                }
                if (scale > 0) {
                    float id = 1 / scale;
                    for (int k = 0; k < 4; ++k) {
                        int u = 0;
                        for (int i = 0; i < 8; ++i) {
                            int l = nearestInt(0.5f * (id * xval[8 * k + i] - 1));
                            l = Math.max(0, Math.min(K_MAX_Q - 1, l));
                            u |= l << 2 * i;
                        }
                        int g = grid.indexOf(u);
                        if (g < 0) g = grid.bestNeighbour(u, xval, 8 * k, waux, 8 * k, scale, L, 8 * k);
                        System.arraycopy(grid.levels, 8 * g, L, 8 * k, 8);
                    }
                    float sumqx = 0, sumq2 = 0;
                    for (int i = 0; i < 32; ++i) {
                        float w = weight[i];
                        float q = 2 * L[i] + 1;
                        sumqx += w * xval[i] * q;
                        sumq2 += w * q * q;
                    }
                    if (sumq2 > 0) scale = sumqx / sumq2;
                }
                if (scale < 0) {
                    // never expected: the stored scale is unsigned, so flip it and the signs (as ggml does)
                    scale = -scale;
                    for (int k = 0; k < 4; ++k) blockSigns[k] = ~blockSigns[k] & 127;
                }
                for (int k = 0; k < 4; ++k) {
                    int g = grid.indexOf(IqGrid.pack(L, 8 * k));
                    if (g < 0) throw new IllegalStateException("IQ2_XXS: point off the grid after snapping");
                    q2[2 * ib] |= g << 8 * k;
                    q2[2 * ib + 1] |= blockSigns[k] << 7 * k;
                }
                scales[ib] = scale;
                maxScale = Math.max(maxScale, scale);
            }
            if (maxScale == 0) {
                putFp16(y, by, 0f);
                for (int j = 0; j < QK_K / 4; j++) y[by + 2 + j] = 0;
                continue;
            }
            float d = maxScale / 31;
            putFp16(y, by, d);
            float id = 1 / d;
            for (int ib = 0; ib < QK_K / 32; ++ib) {
                int l = nearestInt(0.5f * (id * scales[ib] - 1));
                l = Math.max(0, Math.min(15, l));
                q2[2 * ib + 1] |= l << 28;
            }
            for (int j = 0; j < q2.length; j++) putInt(y, by + 2 + 4 * j, q2[j]);
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int ibl = 0, nbl = n / QK_K; ibl < nbl; ++ibl) {
            int by = ibl * BLOCK_BYTES;
            float d = getFp16(y, by);
            for (int ib = 0; ib < QK_K / 32; ++ib) {
                int idx = getInt(y, by + 2 + 8 * ib);
                int aux = getInt(y, by + 2 + 8 * ib + 4);
                float db = d * (0.5f + (aux >>> 28)) * 0.25f;
                int out = xo + ibl * QK_K + 32 * ib;
                for (int l = 0; l < 4; ++l) {
                    int g = (idx >>> 8 * l) & 255;
                    int signs = IqSigns.KSIGNS[(aux >>> 7 * l) & 127];
                    for (int j = 0; j < 8; ++j) {
                        x[out + 8 * l + j] = db * VALUES[8 * g + j] * ((signs & (1 << j)) != 0 ? -1.f : 1.f);
                    }
                }
            }
        }
    }
}
