package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

import static dev.featherweight.kernels.quant.gguf.QuantSearch.nearestInt;

/**
 * IQ2_XS ({@code block_iq2_xs}: fp16 d, {@code qs[32]} little-endian uint16, {@code scales[8]}; 74 bytes =
 * 2.3125 bpw). Each uint16 covers 8 weights: a 9-bit index into the 512-point grid ({@link IqGrid#iq2xs()}) and a
 * 7-bit sign pattern ({@link IqSigns#KSIGNS}); each 16 weights have a 4-bit scale s (low nibble first):
 * x ≈ d·(0.5 + s)·0.25·grid·sign.
 *
 * <p>Quantization is {@code quantize_row_iq2_xs_impl} (importance matrix required): per 16 weights, 19 trial
 * scales (5 ± 0.9)/max, levels snapped to the grid, the best least-squares fit kept, then the groups that were off
 * the grid are re-snapped with the final scale.
 */
final class IQ2_XSCodec extends BlockCodec {
    static final int QK_K = GgmlType.IQ2_XS.blockSize;
    static final int BLOCK_BYTES = GgmlType.IQ2_XS.typeSize;
    private static final int QS = 2, SCALES = 66;
    private static final int K_MAX_Q = 3;
    private static final float[] VALUES = IqSigns.gridValues(IqGrid.iq2xs(), IqSigns.IQ2_MAGNITUDES);

    IQ2_XSCodec() {
        super(GgmlType.IQ2_XS, 0 /* d */);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        if (qw == null) throw new ImportanceMatrixRequiredException(type());
        IqGrid grid = IqGrid.iq2xs();
        float[] scales = new float[QK_K / 16];
        float[] weight = new float[16];
        float[] xval = new float[16];
        byte[] L = new byte[16];
        byte[] Laux = new byte[16];
        float[] waux = new float[16];
        boolean[] onGrid = new boolean[2];
        boolean[] onGridAux = new boolean[2];
        int[] blockSigns = new int[2];
        int[] q2 = new int[2 * (QK_K / 16)];
        for (int ibl = 0, nbl = n / QK_K; ibl < nbl; ++ibl) {
            int by = ibl * BLOCK_BYTES;
            java.util.Arrays.fill(y, by, by + BLOCK_BYTES, (byte) 0);
            java.util.Arrays.fill(q2, 0);
            float maxScale = 0;
            int xbl = xo + QK_K * ibl;
            float sumx2 = 0;
            for (int i = 0; i < QK_K; ++i) sumx2 += x[xbl + i] * x[xbl + i];
            float sigma2 = sumx2 / QK_K;
            for (int ib = 0; ib < QK_K / 16; ++ib) {
                int xb = xbl + 16 * ib;
                int qo = QK_K * ibl + 16 * ib;
                for (int i = 0; i < 16; ++i) weight[i] = qw[qo + i] * (float) Math.sqrt(sigma2 + x[xb + i] * x[xb + i]);
                for (int i = 0; i < 16; ++i) waux[i] = (float) Math.sqrt(weight[i]);
                for (int k = 0; k < 2; ++k) blockSigns[k] = IqSigns.foldSigns(x, xb + 8 * k, weight, 8 * k, xval, 8 * k, true);
                float max = xval[0];
                for (int i = 1; i < 16; ++i) max = Math.max(max, xval[i]);
                java.util.Arrays.fill(L, (byte) 0);
                if (max < QuantSearch.GROUP_MAX_EPS) {
                    scales[ib] = 0;
                    continue;
                }
                float scale = IqSearch.snapToGrid16(grid, xval, weight, waux, max, 9, L, Laux, onGrid, onGridAux);
                if (scale < 0) {
                    scale = -scale;
                    for (int k = 0; k < 2; ++k) blockSigns[k] = ~blockSigns[k] & 127;
                }
                for (int k = 0; k < 2; ++k) {
                    int g = grid.indexOf(IqGrid.pack(L, 8 * k));
                    if (g < 0) throw new IllegalStateException("IQ2_XS: point off the grid after snapping");
                    q2[2 * ib + k] = g | blockSigns[k] << 9;
                }
                scales[ib] = scale;
                maxScale = Math.max(maxScale, scale);
            }
            if (maxScale == 0) continue;
            float d = maxScale / 31;
            putFp16(y, by, d);
            float id = 1 / d;
            for (int ib = 0; ib < QK_K / 16; ++ib) {
                int l = nearestInt(0.5f * (id * scales[ib] - 1));
                l = Math.max(0, Math.min(15, l));
                y[by + SCALES + ib / 2] |= (byte) (ib % 2 == 0 ? l : l << 4);
            }
            for (int j = 0; j < q2.length; j++) putShort(y, by + QS + 2 * j, (short) q2[j]);
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
                int out = xo + ibl * QK_K + 32 * ib32;
                for (int l = 0; l < 4; ++l) {
                    int q = getShort(y, by + QS + 2 * (4 * ib32 + l)) & 0xFFFF;
                    int g = q & 511;
                    int signs = IqSigns.KSIGNS[q >> 9];
                    float db = l < 2 ? db0 : db1;
                    for (int j = 0; j < 8; ++j) {
                        x[out + 8 * l + j] = db * VALUES[8 * g + j] * ((signs & (1 << j)) != 0 ? -1.f : 1.f);
                    }
                }
            }
        }
    }
}
