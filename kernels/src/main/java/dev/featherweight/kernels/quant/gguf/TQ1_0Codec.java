package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * TQ1_0 ({@code block_tq1_0}, 256 ternary weights in 54 bytes = 1.6875 bpw): {@code qs[48]}, {@code qh[4]}, fp16
 * {@code d}. Five trits per byte of qs, four per byte of qh, stored as a base-3 fixed-point fraction (the byte is
 * ceil(t·256/243) of the base-3 number t, so trit n is the top "digit" of byte·3ⁿ: ((uint8)(b·3ⁿ)·3) &gt;&gt; 8).
 * qs[0..32) hold weights m + 32n (n = 0..4) of the first 160, qs[32..48) weights 160 + m + 16n, qh[j] weights
 * 240 + j + 4n (n = 0..3, shifted up one trit). {@code quantize_row_tq1_0_ref}: d = max|x|, trit = lroundf(x/d) + 1;
 * the importance matrix is ignored.
 */
final class TQ1_0Codec extends BlockCodec {
    static final int QK_K = GgmlType.TQ1_0.blockSize;
    static final int BLOCK_BYTES = GgmlType.TQ1_0.typeSize;
    static final int QS = 0, QH = 48, D = 52;
    private static final int[] POW3 = {1, 3, 9, 27, 81, 243};

    /** TRIT[b·5 + n] = trit n of byte b minus one, as the float dequantize_row_tq1_0 multiplies by d. */
    private static final float[] TRIT = new float[256 * 5];

    static {
        for (int b = 0; b < 256; b++) {
            for (int n = 0; n < 5; n++) {
                int q = (b * POW3[n]) & 0xFF;
                TRIT[b * 5 + n] = ((q * 3) >> 8) - 1;
            }
        }
    }

    TQ1_0Codec() {
        super(GgmlType.TQ1_0, D);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        for (int i = 0, nb = n / QK_K; i < nb; i++) {
            int bx = xo + i * QK_K, by = i * BLOCK_BYTES;
            float amax = 0;
            for (int j = 0; j < QK_K; j++) amax = Math.max(amax, Math.abs(x[bx + j]));
            float d = amax;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putFp16(y, by + D, d);
            for (int m = 0; m < 32; m++) y[by + QS + m] = packTrits(x, bx + m, 32, 5, id, false);
            for (int m = 0; m < 16; m++) y[by + QS + 32 + m] = packTrits(x, bx + 160 + m, 16, 5, id, false);
            for (int j = 0; j < 4; j++) y[by + QH + j] = packTrits(x, bx + 240 + j, 4, 4, id, true);
        }
    }

    /** count trits x[first + k·stride]·id (most significant first), padded by one trit for qh, as a ceil(·256/243) byte. */
    private static byte packTrits(float[] x, int first, int stride, int count, float id, boolean pad) {
        int q = 0;
        for (int k = 0; k < count; k++) q = (q * 3 + QuantSearch.roundAwayFromZero(x[first + k * stride] * id) + 1) & 0xFF;
        if (pad) q = (q * 3) & 0xFF;
        return (byte) ((q * 256 + (243 - 1)) / 243);
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int i = 0, nb = n / QK_K; i < nb; i++) decodeBlock(y, i, x, xo + i * QK_K);
    }

    /** {@code dequantize_row_tq1_0} for one block. */
    private static void decodeBlock(byte[] y, int block, float[] x, int xo) {
        int by = block * BLOCK_BYTES;
        float d = getFp16(y, by + D);
        int o = xo;
        for (int t = 0; t < 5; t++) {
            for (int m = 0; m < 32; m++) x[o++] = TRIT[(y[by + QS + m] & 0xFF) * 5 + t] * d;
        }
        for (int t = 0; t < 5; t++) {
            for (int m = 0; m < 16; m++) x[o++] = TRIT[(y[by + QS + 32 + m] & 0xFF) * 5 + t] * d;
        }
        for (int t = 0; t < 4; t++) {
            for (int j = 0; j < 4; j++) x[o++] = TRIT[(y[by + QH + j] & 0xFF) * 5 + t] * d;
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
