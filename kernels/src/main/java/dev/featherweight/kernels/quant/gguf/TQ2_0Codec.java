package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * TQ2_0 ({@code block_tq2_0}, 256 ternary weights in 66 bytes = 2.0625 bpw): {@code qs[64]} then fp16 {@code d}.
 * Chunk c of 128 weights: byte 32c+m holds q[128c + m + 32k] in bits 2k..2k+1 (k = 0..3), q ∈ {0, 1, 2} for
 * x ≈ d·(q - 1). {@code quantize_row_tq2_0_ref}: d = max|x| of the block, q = lroundf(x/d) + 1 (ties away from
 * zero). {@code quantize_tq2_0} ignores the importance matrix (llama-quantize accepts one and writes the same bytes).
 */
final class TQ2_0Codec extends BlockCodec {
    static final int QK_K = GgmlType.TQ2_0.blockSize;
    static final int BLOCK_BYTES = GgmlType.TQ2_0.typeSize;
    static final int QS = 0, D = 64;

    TQ2_0Codec() {
        super(GgmlType.TQ2_0, D);
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
            for (int c = 0; c < 2; c++) {
                int cx = bx + 128 * c;
                for (int m = 0; m < 32; m++) {
                    int q = 0;
                    for (int k = 0; k < 4; k++) {
                        int xi = QuantSearch.roundAwayFromZero(x[cx + m + 32 * k] * id) + 1;
                        q += (xi & 3) << (2 * k);
                    }
                    y[by + QS + 32 * c + m] = (byte) q;
                }
            }
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int i = 0, nb = n / QK_K; i < nb; i++) decodeBlock(y, i, x, xo + i * QK_K);
    }

    /** {@code dequantize_row_tq2_0} for one block: (float)(q - 1)·d. */
    private static void decodeBlock(byte[] y, int block, float[] x, int xo) {
        int by = block * BLOCK_BYTES;
        float d = getFp16(y, by + D);
        int o = xo;
        for (int c = 0; c < 2; c++) {
            for (int k = 0; k < 4; k++) {
                for (int m = 0; m < 32; m++) x[o++] = (float) (((y[by + QS + 32 * c + m] >> (2 * k)) & 3) - 1) * d;
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
