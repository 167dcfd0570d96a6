package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.MatmulKernel;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** F32 weights: a row is a plain little-endian float copy out of the mapping. */
public final class F32Matrix extends BlockMatrix {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public F32Matrix(Tensor t) {
        super(t, GgmlType.F32);
    }

    @Override
    public void decodeRow(int row, float[] dst, int off) {
        MemorySegment.copy(data, LE_FLOAT, row * rowBytes, dst, off, cols);
    }

    /** Vector dot straight from the mapping. */
    @Override
    public float dotRow(int row, float[] x, int xOff) {
        long base = row * rowBytes;
        FloatVector acc0 = FloatVector.zero(S), acc1 = acc0;
        int L = S.length(), i = 0;
        for (; i + 2 * L <= cols; i += 2 * L) {
            acc0 = FloatVector.fromMemorySegment(S, data, base + 4L * i, ByteOrder.LITTLE_ENDIAN).fma(FloatVector.fromArray(S, x, xOff + i), acc0);
            acc1 = FloatVector.fromMemorySegment(S, data, base + 4L * (i + L), ByteOrder.LITTLE_ENDIAN).fma(FloatVector.fromArray(S, x, xOff + i + L), acc1);
        }
        float s = MatmulKernel.sumLanes(acc0.add(acc1));
        for (; i < cols; i++) s += data.get(LE_FLOAT, base + 4L * i) * x[xOff + i];
        return s;
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        y[yo] = Float.intBitsToFloat((b[o] & 0xFF) | (b[o + 1] & 0xFF) << 8 | (b[o + 2] & 0xFF) << 16 | b[o + 3] << 24);
    }
}
