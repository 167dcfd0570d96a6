package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

import static dev.featherweight.kernels.quant.gguf.QuantSearch.nearestInt;

/**
 * IQ2_S ({@code block_iq2_s}: fp16 d, {@code qs[64]} = 32 low bytes of 10-bit grid indices then 32 sign bytes,
 * {@code qh[8]} = the indices' top 2 bits, {@code scales[8]}; 82 bytes = 2.5625 bpw). Each 8 weights are a point of
 * the 1024-point grid ({@link IqGrid#iq2s()}) with 8 explicit signs; each 16 weights a 4-bit scale s:
 * x ≈ d·(0.5 + s)·0.25·grid·sign.
 *
 * <p>Quantization is {@code quantize_row_iq2_s_impl}: weights qw·sqrt(σ² + x²) with σ² = 2·Σx²/256, or without an
 * importance matrix σ²/4 + x² (llama-quantize still refuses IQ2_S tensors without one); the search is IQ2_XS's
 * ({@link IqSearch#snapToGrid16}); the stored d is max_scale/31·0.9875.
 */
final class IQ2_SCodec extends BlockCodec {
    static final int QK_K = GgmlType.IQ2_S.blockSize;
    static final int BLOCK_BYTES = GgmlType.IQ2_S.typeSize;
    private static final int QS = 2, SIGNS = 2 + QK_K / 8, QH = 66, SCALES = 74;
    private static final float GROUP_MAX_EPS_IQ2_S = 1e-8f;
    private static final float[] VALUES = IqSigns.gridValues(IqGrid.iq2s(), IqSigns.IQ2_MAGNITUDES);

    IQ2_SCodec() {
        super(GgmlType.IQ2_S, 0 /* d */);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        IqGrid grid = IqGrid.iq2s();
        float[] scales = new float[QK_K / 16];
        float[] weight = new float[16];
        float[] xval = new float[16];
        byte[] L = new byte[16];
        byte[] Laux = new byte[16];
        float[] waux = new float[16];
        boolean[] onGrid = new boolean[2];
        boolean[] onGridAux = new boolean[2];
        int[] blockSigns = new int[2];
        for (int ibl = 0, nbl = n / QK_K; ibl < nbl; ++ibl) {
            int by = ibl * BLOCK_BYTES;
            java.util.Arrays.fill(y, by, by + BLOCK_BYTES, (byte) 0);
            float maxScale = 0;
            int xbl = xo + QK_K * ibl;
            float sumx2 = 0;
            for (int i = 0; i < QK_K; ++i) sumx2 += x[xbl + i] * x[xbl + i];
            float sigma2 = 2 * sumx2 / QK_K;
            for (int ib = 0; ib < QK_K / 16; ++ib) {
                int xb = xbl + 16 * ib;
                if (qw != null) {
                    int qo = QK_K * ibl + 16 * ib;
                    for (int i = 0; i < 16; ++i) weight[i] = qw[qo + i] * (float) Math.sqrt(sigma2 + x[xb + i] * x[xb + i]);
                } else {
                    for (int i = 0; i < 16; ++i) weight[i] = 0.25f * sigma2 + x[xb + i] * x[xb + i];
                }
                for (int i = 0; i < 16; ++i) waux[i] = (float) Math.sqrt(weight[i]);
                for (int k = 0; k < 2; ++k) blockSigns[k] = IqSigns.foldSigns(x, xb + 8 * k, weight, 8 * k, xval, 8 * k, false);
                float max = xval[0];
                for (int i = 1; i < 16; ++i) max = Math.max(max, xval[i]);
                java.util.Arrays.fill(L, (byte) 0);
                if (max < GROUP_MAX_EPS_IQ2_S) {
                    scales[ib] = 0;
                    continue;
                }
                float scale = IqSearch.snapToGrid16(grid, xval, weight, waux, max, 9, L, Laux, onGrid, onGridAux);
                if (scale < 0) {
                    scale = -scale;
                    for (int k = 0; k < 2; ++k) blockSigns[k] = ~blockSigns[k] & 255;
                }
                for (int k = 0; k < 2; ++k) {
                    int g = grid.indexOf(IqGrid.pack(L, 8 * k));
                    if (g < 0) throw new IllegalStateException("IQ2_S: point off the grid after snapping");
                    int i8 = 2 * ib + k;
                    y[by + QS + i8] = (byte) g;
                    y[by + QH + i8 / 4] |= (byte) ((g >> 8) << 2 * (i8 % 4));
                    y[by + SIGNS + i8] = (byte) blockSigns[k];
                }
                scales[ib] = scale;
                maxScale = Math.max(maxScale, scale);
            }
            if (maxScale == 0) continue;
            float d = maxScale / 31;
            putFp16(y, by, d * 0.9875f);
            float id = 1 / d;
            for (int ib = 0; ib < QK_K / 16; ++ib) {
                int l = nearestInt(0.5f * (id * scales[ib] - 1));
                l = Math.max(0, Math.min(15, l));
                y[by + SCALES + ib / 2] |= (byte) (ib % 2 == 0 ? l : l << 4);
            }
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int ibl = 0, nbl = n / QK_K; ibl < nbl; ++ibl) {
            int by = ibl * BLOCK_BYTES;
            float d = getFp16(y, by);
            for (int ib32 = 0; ib32 < QK_K / 32; ++ib32) {
                int sc = y[by + SCALES + ib32] & 0xFF;
                float db0 = d * (0.5f + (sc & 0xf)) * 0.25f;
                float db1 = d * (0.5f + (sc >> 4)) * 0.25f;
                int qh = y[by + QH + ib32] & 0xFF;
                int out = xo + ibl * QK_K + 32 * ib32;
                for (int l = 0; l < 4; ++l) {
                    int g = (y[by + QS + 4 * ib32 + l] & 0xFF) | ((qh << (8 - 2 * l)) & 0x300);
                    int signs = y[by + SIGNS + 4 * ib32 + l] & 0xFF;
                    float dl = l < 2 ? db0 : db1;
                    for (int j = 0; j < 8; ++j) {
                        x[out + 8 * l + j] = dl * VALUES[8 * g + j] * ((signs & (1 << j)) != 0 ? -1.f : 1.f);
                    }
                }
            }
        }
    }
}
