package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteOrder;

/** Q4_0: 32 weights = fp16 d, 16 bytes of nibbles (byte j: q[j] low, q[j+16] high); w = d·(q − 8). */
public final class Q4_0Matrix extends BlockMatrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    public Q4_0Matrix(Tensor t) {
        super(t, GgmlType.Q4_0);
    }

    /** Vectorized row decode for the batched kernel. */
    @Override
    public void decodeRow(int row, float[] dst, int off) {
        long base = row * rowBytes;
        int nb = cols / 32;
        for (int b = 0; b < nb; b++) {
            long o = base + 18L * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(data.get(LE_SHORT, o)));
            ByteVector q = ByteVector.fromMemorySegment(B, data, o + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector lo = q.and((byte) 0xF).sub((byte) 8);
            ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).sub((byte) 8);
            ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, off + 32 * b);
            ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, off + 32 * b + 16);
        }
    }

    /** Per block: 16 bytes → low nibbles (weights 0–15) and high nibbles (16–31) as float vectors, minus 8. */
    @Override
    public float dotRow(int row, float[] x, int xOff) {
        long base = row * rowBytes;
        int nb = cols / 32;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < nb; b++) {
            long o = base + 18L * b;
            float d = Float.float16ToFloat(data.get(LE_SHORT, o));
            ByteVector q = ByteVector.fromMemorySegment(B, data, o + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector lo = q.and((byte) 0xF).sub((byte) 8);
            ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).sub((byte) 8);
            FloatVector q0 = (FloatVector) lo.convertShape(VectorOperators.B2F, F, 0);
            FloatVector q1 = (FloatVector) hi.convertShape(VectorOperators.B2F, F, 0);
            FloatVector s = q0.mul(FloatVector.fromArray(F, x, xOff + 32 * b)).add(q1.mul(FloatVector.fromArray(F, x, xOff + 32 * b + 16)));
            acc = s.fma(FloatVector.broadcast(F, d), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        float d = f16(b, o);
        for (int j = 0; j < 16; j++) {
            int q = u8(b, o + 2 + j);
            y[yo + j] = ((q & 0xF) - 8) * d;
            y[yo + j + 16] = ((q >> 4) - 8) * d;
        }
    }
}
