package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.featherweight.kernels.quant.gguf.QuantSearch.nearestInt;

/**
 * IQ3_XXS ({@code block_iq3_xxs}, 256 weights in 98 bytes = 3.0625 bpw): fp16 {@code d}, {@code qs[64]} (one
 * 256-point grid index per 4 weights), then 8 u32 "scales and signs" (one per 32 weights: four 7-bit sign masks
 * of 8 weights each, the 8th sign being the parity, and a 4-bit scale ls in bits 28..31).
 * x ≈ d·(0.5 + ls)·0.5·grid·sign.
 *
 * <p>{@code quantize_row_iq3_xxs_impl(256, …)}: weights x² (or qw·sqrt(σ² + x²), σ² = 2·Σx²/256); signs are
 * folded into |x| with an even number of flips per 8 (an odd count un-flips the element of least w·x²); the
 * {@link Iq3Lattice#search} over 31 scales; d = max scale/31 stored as d·1.0125, ls = nearest_int((s/d - 1)/2).
 */
final class IQ3_XXSCodec extends BlockCodec {
    static final int QK_K = GgmlType.IQ3_XXS.blockSize;
    static final int BLOCK_BYTES = GgmlType.IQ3_XXS.typeSize;
    static final int D = 0, QS = 2, SCALES_AND_SIGNS = 2 + QK_K / 4;
    /** GROUP_MAX_EPS_IQ3_XXS: a sub-block below this is stored as zeros. */
    private static final float GROUP_MAX_EPS = 1e-8f;
    private static final Iq3Lattice GRID = Iq3Lattice.XXS;

    IQ3_XXSCodec() {
        super(GgmlType.IQ3_XXS, D);
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
                    int nflip = 0, sign = 0;
                    for (int i = 0; i < 8; ++i) {
                        float v = x[xb + 8 * k + i];
                        if (v >= 0) xval[8 * k + i] = v;
                        else {
                            xval[8 * k + i] = -v;
                            ++nflip;
                            sign |= 1 << i;
                        }
                    }
                    if (nflip % 2 != 0) {
                        int imin = 0;
                        float min = weight[8 * k] * x[xb + 8 * k] * x[xb + 8 * k];
                        for (int i = 1; i < 8; ++i) {
                            float ax = weight[8 * k + i] * x[xb + 8 * k + i] * x[xb + 8 * k + i];
                            if (ax < min) {
                                min = ax;
                                imin = i;
                            }
                        }
                        xval[8 * k + imin] = -xval[8 * k + imin];
                        sign ^= 1 << imin;
                    }
                    blockSigns[k] = sign & 127;
                }
                float max = xval[0];
                for (int i = 1; i < 32; ++i) max = Math.max(max, xval[i]);
                if (max < GROUP_MAX_EPS) {
                    scales[ib] = 0;
                    continue;
                }
                float scale = GRID.search(xval, weight, waux, max, 15, true, false, s);
                if (scale < 0) {
                    scale = -scale;
                    for (int k = 0; k < 4; ++k) blockSigns[k] = ~blockSigns[k] & 127;
                }
                for (int k = 0; k < 8; ++k) y[by + QS + 8 * ib + k] = (byte) GRID.indexOf(s.L, 4 * k);
                putInt(y, by + SCALES_AND_SIGNS + 4 * ib, blockSigns[0] | (blockSigns[1] << 7) | (blockSigns[2] << 14) | (blockSigns[3] << 21));
                scales[ib] = scale;
                maxScale = Math.max(maxScale, scale);
            }
            if (maxScale == 0) {
                Arrays.fill(y, by, by + BLOCK_BYTES, (byte) 0);
                continue;
            }
            float d = maxScale / 31;
            putFp16(y, by + D, d * 1.0125f);
            float id = 1 / d;
            for (int ib = 0; ib < QK_K / 32; ++ib) {
                int l = nearestInt(0.5f * (id * scales[ib] - 1));
                l = Math.max(0, Math.min(15, l));
                int o = by + SCALES_AND_SIGNS + 4 * ib;
                putInt(y, o, getInt(y, o) | (l << 28));
            }
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int i = 0, nb = n / QK_K; i < nb; i++) decodeBlock(y, i, x, xo + i * QK_K);
    }

    /** {@code dequantize_row_iq3_xxs} for one block. */
    private static void decodeBlock(byte[] y, int block, float[] x, int xo) {
        int by = block * BLOCK_BYTES;
        float d = getFp16(y, by + D);
        float[] grid = GRID.values;
        int o = xo;
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            int aux = getInt(y, by + SCALES_AND_SIGNS + 4 * ib);
            float db = d * (0.5f + (aux >>> 28)) * 0.5f;
            int qs = by + QS + 8 * ib;
            for (int l = 0; l < 4; ++l) {
                int signs = KSIGNS[(aux >>> (7 * l)) & 127];
                int g1 = 4 * (y[qs + 2 * l] & 0xFF), g2 = 4 * (y[qs + 2 * l + 1] & 0xFF);
                for (int j = 0; j < 4; ++j) {
                    x[o + j] = db * grid[g1 + j] * ((signs & (1 << j)) != 0 ? -1.f : 1.f);
                    x[o + j + 4] = db * grid[g2 + j] * ((signs & (1 << (j + 4))) != 0 ? -1.f : 1.f);
                }
                o += 8;
            }
        }
    }

    /** {@code ksigns_iq2xs}: 7 stored sign bits plus the parity bit that makes the count of minus signs even. */
    static final int[] KSIGNS = new int[128];

    static {
        for (int i = 0; i < 128; i++) KSIGNS[i] = i | ((Integer.bitCount(i) & 1) << 7);
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
