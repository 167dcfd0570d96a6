package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.MatmulKernel;
import dev.featherweight.kernels.core.VectorWidth;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Q8_0 ({@code block_q8_0}: fp16 d, int8 qs[32]; 8.5 bpw). {@code quantize_q8_0} always runs
 * {@code quantize_row_q8_0_ref} and ignores the importance matrix: d = amax/127, q = roundf(x/d)
 * (multiplying by the reciprocal; ties away from zero).
 */
final class Q8_0Codec extends BlockCodec {
    static final int QK = GgmlType.Q8_0.blockSize;
    static final int BLOCK_BYTES = GgmlType.Q8_0.typeSize;
    /** Byte offsets inside a block: fp16 d, then the 32 int8 quants. */
    static final int D = 0, QS = 2;
    private static final VectorSpecies<Float> F = VectorWidth.FLOATS;
    private static final VectorSpecies<Byte> B = VectorWidth.BYTES;
    private static final int L = F.length(), BL = B.length(), PARTS = VectorWidth.BYTE_PARTS;

    Q8_0Codec() {
        super(GgmlType.Q8_0, D);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        for (int ib = 0, nb = n / QK; ib < nb; ib++) {
            int bx = xo + ib * QK;
            int by = ib * BLOCK_BYTES;
            float amax = 0.0f;
            for (int j = 0; j < QK; j++) {
                float a = Math.abs(x[bx + j]);
                amax = amax > a ? amax : a; // C MAX(): a NaN is dropped like there
            }
            float d = amax / ((1 << 7) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putFp16(y, by, d);
            for (int j = 0; j < QK; j++) {
                y[by + 2 + j] = (byte) QuantSearch.roundAwayFromZero(x[bx + j] * id);
            }
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int ib = 0, nb = n / QK; ib < nb; ib++) {
            int by = ib * BLOCK_BYTES;
            float d = getFp16(y, by);
            for (int j = 0; j < QK; j++) x[xo + ib * QK + j] = y[by + 2 + j] * d;
        }
    }

    /** Vectorized row decode for the batched kernel: per block 32 int8 → float vectors · d (exact at any width). */
    @Override
    public void decodeRow(MemorySegment src, long base, float[] dst, int off, int n) {
        for (int b = 0, nb = n / QK; b < nb; b++) {
            long o = base + (long) BLOCK_BYTES * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(src.get(LE_SHORT, o + D)));
            for (int j = 0; j < QK; j += BL) {
                ByteVector q = ByteVector.fromMemorySegment(B, src, o + QS + j, ByteOrder.LITTLE_ENDIAN);
                for (int p = 0; p < PARTS; p++) {
                    ((FloatVector) q.convertShape(VectorOperators.B2F, F, p)).mul(d).intoArray(dst, off + QK * b + j + p * L);
                }
            }
        }
    }

    /** Per block: 32 int8 → float vectors, multiplied with x, scaled by d once per block. */
    @Override
    public float dotRow(MemorySegment src, long base, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0, nb = n / QK; b < nb; b++) {
            long o = base + (long) BLOCK_BYTES * b;
            float d = Float.float16ToFloat(src.get(LE_SHORT, o + D));
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < QK; j += BL) {
                ByteVector q = ByteVector.fromMemorySegment(B, src, o + QS + j, ByteOrder.LITTLE_ENDIAN);
                for (int p = 0; p < PARTS; p++) {
                    s = ((FloatVector) q.convertShape(VectorOperators.B2F, F, p)).fma(FloatVector.fromArray(F, x, xOff + QK * b + j + p * L), s);
                }
            }
            acc = s.fma(FloatVector.broadcast(F, d), acc);
        }
        return MatmulKernel.sumLanes(acc);
    }
}
