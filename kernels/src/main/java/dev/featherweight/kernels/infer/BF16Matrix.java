package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;

/** bfloat16 weights: the high 16 bits of a float. */
public final class BF16Matrix extends BlockMatrix {
    public BF16Matrix(Tensor t) {
        super(t, GgmlType.BF16);
    }

    @Override
    public void decodeRow(int row, float[] dst, int off) {
        long base = row * rowBytes;
        for (int c = 0; c < cols; c++) dst[off + c] = Float.intBitsToFloat(data.get(LE_SHORT, base + 2L * c) << 16);
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        y[yo] = Float.intBitsToFloat(((b[o] & 0xFF) | (b[o + 1] & 0xFF) << 8) << 16);
    }
}
