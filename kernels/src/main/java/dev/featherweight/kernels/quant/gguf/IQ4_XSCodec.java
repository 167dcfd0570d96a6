package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

import java.lang.foreign.MemorySegment;

import static dev.featherweight.kernels.quant.gguf.QuantSearch.nearestInt;

/**
 * IQ4_XS ({@code block_iq4_xs}, 256 weights in 136 bytes = 4.25 bpw): fp16 {@code d}, u16 {@code scales_h} (2 high
 * bits per sub-block), {@code scales_l[4]} (4 low bits per sub-block), {@code qs[128]} (IQ4_NL's packing per
 * 32-weight sub-block). x ≈ d·(ls - 32)·kvalues_iq4nl[q] with a 6-bit ls per sub-block.
 *
 * <p>{@code quantize_iq4_xs} = {@code quantize_row_iq4_nl_impl(256, 32, …, ntry = 7)} per super-block: weights x²
 * (or qw·sqrt(σ² + x²), σ² = 2·Σx²/256 of the super-block), IQ4_NL's 15-scale search per sub-block (the eight
 * sub-blocks run side by side in {@link LaneSearch#iq4nl}), d = -s/32 for the sub-block scale s of largest |s|,
 * 6-bit ls = clamp(nearest_int(s/d), -32, 31) + 32, and the indices re-picked against the unrounded d·ls.
 */
final class IQ4_XSCodec extends BlockCodec {
    static final int QK_K = GgmlType.IQ4_XS.blockSize;
    static final int BLOCK_BYTES = GgmlType.IQ4_XS.typeSize;
    static final int D = 0, SCALES_H = 2, SCALES_L = 4, QS = 8;
    private static final byte[] KVALUES = IQ4_NLCodec.KVALUES;

    IQ4_XSCodec() {
        super(GgmlType.IQ4_XS, D);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        float[] weight = new float[QK_K];
        float[] xt = new float[QK_K], wt = new float[QK_K], Lt = new float[QK_K];
        float[] scales = new float[QK_K / 32];
        float[] st = new float[LaneSearch.STATE];
        byte[] L = new byte[QK_K];
        for (int ibl = 0, nb = n / QK_K; ibl < nb; ibl++) {
            int bx = xo + ibl * QK_K, by = ibl * BLOCK_BYTES;
            float sigma2 = 0;
            for (int j = 0; j < QK_K; ++j) sigma2 += x[bx + j] * x[bx + j];
            sigma2 *= 2.f / QK_K;
            for (int j = 0; j < QK_K; ++j) {
                float xj = x[bx + j];
                weight[j] = qw != null ? qw[ibl * QK_K + j] * (float) Math.sqrt(sigma2 + xj * xj) : xj * xj;
            }
            // The eight 32-weight sub-blocks are IQ4_NL's search, one per lane (bit-identical to the scalar loop).
            LaneSearch.transpose(x, bx, 32, 8, xt);
            LaneSearch.transpose(weight, 0, 32, 8, wt);
            LaneSearch.iq4nl(xt, wt, Lt, scales, st);
            float maxScale = 0, amaxScale = 0;
            for (int ib = 0; ib < QK_K / 32; ++ib) {
                float absD = Math.abs(scales[ib]);
                if (absD > amaxScale) {
                    amaxScale = absD;
                    maxScale = scales[ib];
                }
            }
            float d = -maxScale / 32;
            putFp16(y, by + D, d);
            float id = d != 0 ? 1 / d : 0.f;
            int scalesH = 0;
            for (int ib = 0; ib < QK_K / 32; ++ib) {
                int l = nearestInt(id * scales[ib]);
                l = Math.max(-32, Math.min(31, l));
                float dl = d * l;
                float idl = dl != 0 ? 1 / dl : 0.f;
                for (int j = 0; j < 32; ++j) L[32 * ib + j] = (byte) QuantSearch.bestIndexInt8(16, KVALUES, idl * x[bx + 32 * ib + j]);
                l += 32;
                int lLow = l & 0xf, lHigh = l >> 4;
                if (ib % 2 == 0) y[by + SCALES_L + ib / 2] = (byte) lLow;
                else y[by + SCALES_L + ib / 2] |= (byte) (lLow << 4);
                scalesH |= lHigh << (2 * ib);
            }
            putShort(y, by + SCALES_H, (short) scalesH);
            for (int i = 0; i < QK_K / 32; ++i) {
                for (int j = 0; j < 16; ++j) y[by + QS + 16 * i + j] = (byte) (L[32 * i + j] | (L[32 * i + 16 + j] << 4));
            }
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int i = 0, nb = n / QK_K; i < nb; i++) decodeBlock(y, i, x, xo + i * QK_K);
    }

    /** {@code dequantize_row_iq4_xs} for one block: dl = d·(ls - 32), y = dl·kvalues[q]. */
    private static void decodeBlock(byte[] y, int block, float[] x, int xo) {
        int by = block * BLOCK_BYTES;
        float d = getFp16(y, by + D);
        int scalesH = getShort(y, by + SCALES_H) & 0xFFFF;
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            int ls = (((y[by + SCALES_L + ib / 2] & 0xFF) >> (4 * (ib % 2))) & 0xf) | (((scalesH >> (2 * ib)) & 3) << 4);
            float dl = d * (ls - 32);
            int q = by + QS + 16 * ib, o = xo + 32 * ib;
            for (int j = 0; j < 16; ++j) {
                int b = y[q + j] & 0xFF;
                x[o + j] = dl * KVALUES[b & 0xf];
                x[o + j + 16] = dl * KVALUES[b >> 4];
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
