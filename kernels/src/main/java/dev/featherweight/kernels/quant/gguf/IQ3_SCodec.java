package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.featherweight.kernels.quant.gguf.QuantSearch.nearestInt;

/**
 * IQ3_S ({@code block_iq3_s}, 256 weights in 110 bytes = 3.4375 bpw): fp16 {@code d}, {@code qs[64]} (low 8 bits
 * of a 512-point grid index per 4 weights), {@code qh[8]} (their 9th bits), {@code signs[32]} (one bit per
 * weight), {@code scales[4]} (a 4-bit scale per 32 weights). x ≈ d·(1 + 2·ls)·grid·sign.
 *
 * <p>{@code quantize_row_iq3_s_impl(32, …)}: weights as IQ3_XXS, all eight signs stored, the
 * {@link Iq3Lattice#search} over 19 scales re-picking every group, d = max scale/31 stored as d·1.033,
 * ls = nearest_int((s/d - 1)/2). As in the C code, a sub-block that is all zeros does not advance the qs/signs
 * cursor (the next sub-block's indices and signs take its place) while its qh bits stay where they belong.
 */
final class IQ3_SCodec extends BlockCodec {
    static final int QK_K = GgmlType.IQ3_S.blockSize;
    static final int BLOCK_BYTES = GgmlType.IQ3_S.typeSize;
    static final int D = 0, QS = 2, QH = 66, SIGNS = 74, SCALES = 106;
    private static final Iq3Lattice GRID = Iq3Lattice.S;

    IQ3_SCodec() {
        super(GgmlType.IQ3_S, D);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        float[] scales = new float[QK_K / 32];
        float[] weight = new float[32], waux = new float[32], xval = new float[32];
        int[] blockSigns = new int[4];
        Iq3Lattice.Scratch s = new Iq3Lattice.Scratch();
        for (int ibl = 0, nbl = n / QK_K; ibl < nbl; ibl++) {
            int bx = xo + QK_K * ibl, by = ibl * BLOCK_BYTES;
            Arrays.fill(y, by, by + BLOCK_BYTES, (byte) 0);
            int qs = by + QS, signs = by + SIGNS;
            float maxScale = 0;
            float sumx2 = 0;
            for (int i = 0; i < QK_K; ++i) sumx2 += x[bx + i] * x[bx + i];
            float sigma2 = 2 * sumx2 / QK_K;
            for (int ib = 0; ib < QK_K / 32; ++ib) {
                int xb = bx + 32 * ib;
                if (qw != null) {
                    int qo = QK_K * ibl + 32 * ib;
                    for (int i = 0; i < 32; ++i) weight[i] = qw[qo + i] * (float) Math.sqrt(sigma2 + x[xb + i] * x[xb + i]);
                } else {
                    for (int i = 0; i < 32; ++i) weight[i] = x[xb + i] * x[xb + i];
                }
                for (int i = 0; i < 32; ++i) waux[i] = (float) Math.sqrt(weight[i]);
                for (int k = 0; k < 4; ++k) {
                    int sign = 0;
                    for (int i = 0; i < 8; ++i) {
                        float v = x[xb + 8 * k + i];
                        if (v >= 0) xval[8 * k + i] = v;
                        else {
                            xval[8 * k + i] = -v;
                            sign |= 1 << i;
                        }
                    }
                    blockSigns[k] = sign;
                }
                float max = xval[0];
                for (int i = 1; i < 32; ++i) max = Math.max(max, xval[i]);
                if (max == 0) {
                    scales[ib] = 0;
                    continue;
                }
                float scale = GRID.search(xval, weight, waux, max, 9, false, true, s);
                if (scale < 0) {
                    scale = -scale;
                    for (int k = 0; k < 4; ++k) blockSigns[k] = ~blockSigns[k] & 0xFF;
                }
                for (int k = 0; k < 8; ++k) {
                    int g = GRID.indexOf(s.L, 4 * k);
                    y[qs + k] = (byte) g;
                    int bit = ib * 8 + k;
                    y[by + QH + bit / 8] |= (byte) ((g >> 8) << (bit % 8));
                }
                qs += 8;
                for (int k = 0; k < 4; ++k) y[signs + k] = (byte) blockSigns[k];
                signs += 4;
                scales[ib] = scale;
                maxScale = Math.max(maxScale, scale);
            }
            if (maxScale == 0) continue;
            float d = maxScale / 31;
            putFp16(y, by + D, d * 1.033f);
            float id = 1 / d;
            for (int ib = 0; ib < QK_K / 32; ib += 2) {
                int l1 = nearestInt(0.5f * (id * scales[ib] - 1));
                l1 = Math.max(0, Math.min(15, l1));
                int l2 = nearestInt(0.5f * (id * scales[ib + 1] - 1));
                l2 = Math.max(0, Math.min(15, l2));
                y[by + SCALES + ib / 2] = (byte) (l1 | (l2 << 4));
            }
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int i = 0, nb = n / QK_K; i < nb; i++) decodeBlock(y, i, x, xo + i * QK_K);
    }

    /** {@code dequantize_row_iq3_s} for one block. */
    private static void decodeBlock(byte[] y, int block, float[] x, int xo) {
        int by = block * BLOCK_BYTES;
        float d = getFp16(y, by + D);
        float[] grid = GRID.values;
        int o = xo;
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            int sc = y[by + SCALES + ib / 2] & 0xFF;
            float db = d * (1 + 2 * ((ib % 2 == 0 ? sc : sc >> 4) & 0xf));
            int qh = y[by + QH + ib] & 0xFF, qs = by + QS + 8 * ib, signs = by + SIGNS + 4 * ib;
            for (int l = 0; l < 4; ++l) {
                int g1 = 4 * ((y[qs + 2 * l] & 0xFF) | ((qh << (8 - 2 * l)) & 256));
                int g2 = 4 * ((y[qs + 2 * l + 1] & 0xFF) | ((qh << (7 - 2 * l)) & 256));
                int sg = y[signs + l] & 0xFF;
                for (int j = 0; j < 4; ++j) {
                    x[o + j] = db * grid[g1 + j] * ((sg & (1 << j)) != 0 ? -1.f : 1.f);
                    x[o + j + 4] = db * grid[g2 + j] * ((sg & (1 << (j + 4))) != 0 ? -1.f : 1.f);
                }
                o += 8;
            }
        }
    }

    @Override
    public void decodeRow(MemorySegment src, long srcOff, float[] dst, int off, int n) {
        byte[] b = rowBuffer(src, srcOff, n);
        for (int i = 0, nb = n / QK_K; i < nb; i++) decodeBlock(b, i, dst, off + i * QK_K);
    }

    @Override
    public float dotRow(MemorySegment src, long srcOff, float[] x, int xOff, int n) {
        return BlockDot.dot(rowBuffer(src, srcOff, n), n, QK_K, (row, blk, w) -> decodeBlock(row, blk, w, 0), x, xOff);
    }
}
