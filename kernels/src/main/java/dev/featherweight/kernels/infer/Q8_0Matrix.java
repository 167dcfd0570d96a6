package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteOrder;

/** Q8_0: 32 weights = fp16 d, then 32 int8 q; w = d·q. */
public final class Q8_0Matrix extends BlockMatrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
    public Q8_0Matrix(Tensor t) {
        super(t, GgmlType.Q8_0);
    }

    /** Vectorized row decode for the batched kernel: per block 32 int8 → 2 float vectors · d. */
    @Override
    public void decodeRow(int row, float[] dst, int off) {
        long base = row * rowBytes;
        int nb = cols / 32;
        for (int b = 0; b < nb; b++) {
            long o = base + 34L * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(data.get(LE_SHORT, o)));
            ByteVector q = ByteVector.fromMemorySegment(B, data, o + 2, ByteOrder.LITTLE_ENDIAN);
            ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, off + 32 * b);
            ((FloatVector) q.convertShape(VectorOperators.B2F, F, 1)).mul(d).intoArray(dst, off + 32 * b + 16);
        }
    }

    /** Per block: 32 int8 → two 16-float vectors, FMA with x, scale by d once per block. */
    @Override
    public float dotRow(int row, float[] x, int xOff) {
        long base = row * rowBytes;
        int nb = cols / 32;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            long o = base + 34L * b;
            float d = Float.float16ToFloat(data.get(LE_SHORT, o));
            ByteVector q = ByteVector.fromMemorySegment(B, data, o + 2, ByteOrder.LITTLE_ENDIAN);
            FloatVector q0 = (FloatVector) q.convertShape(VectorOperators.B2F, F, 0);
            FloatVector q1 = (FloatVector) q.convertShape(VectorOperators.B2F, F, 1);
            FloatVector s = q0.mul(FloatVector.fromArray(F, x, xOff + 32 * b)).add(q1.mul(FloatVector.fromArray(F, x, xOff + 32 * b + 16)));
            acc = s.fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        float d = f16(b, o);
        for (int j = 0; j < 32; j++) y[yo + j] = d * b[o + 2 + j];
    }
}
