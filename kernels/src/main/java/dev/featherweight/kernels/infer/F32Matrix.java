package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.formats.Tensor;
import dev.featherweight.kernels.quant.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** F32 weights: a row is a plain little-endian float copy out of the mapping. */
public final class F32Matrix extends BlockMatrix {
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public F32Matrix(Tensor t) {
        super(t, GgmlType.F32);
    }

    @Override
    public void decodeRow(int row, float[] dst, int off) {
        MemorySegment.copy(data, LE_FLOAT, row * rowBytes, dst, off, cols);
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        y[yo] = Float.intBitsToFloat((b[o] & 0xFF) | (b[o + 1] & 0xFF) << 8 | (b[o + 2] & 0xFF) << 16 | b[o + 3] << 24);
    }
}
