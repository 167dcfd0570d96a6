package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.MatmulKernel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/** F32: the weights themselves, little-endian (a copy; the importance matrix does not apply). */
final class F32Codec extends BlockCodec {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    F32Codec() {
        super(GgmlType.F32);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        for (int i = 0; i < n; i++) putInt(y, 4 * i, Float.floatToRawIntBits(x[xo + i]));
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int i = 0; i < n; i++) x[xo + i] = Float.intBitsToFloat(getInt(y, 4 * i));
    }

    /** A row is a plain little-endian float copy out of the mapping. */
    @Override
    public void decodeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        MemorySegment.copy(src, LE_FLOAT, srcOff, dst, dstOff, n);
    }

    /** Vector dot straight from the mapping, in {@link MatmulKernel#dot}'s width-independent order. */
    @Override
    public float dotRow(MemorySegment src, long base, float[] x, int xOff, int n) {
        int V = MatmulKernel.VIRTUAL_LANES, L = S.length(), end = n & -V;
        float s = 0;
        for (int phase = 0; phase < V; phase += L) {
            FloatVector acc0 = FloatVector.zero(S), acc1 = acc0;
            int i = phase;
            for (; i + 2 * V - phase <= n; i += 2 * V) {
                acc0 = FloatVector.fromMemorySegment(S, src, base + 4L * i, ByteOrder.LITTLE_ENDIAN).fma(FloatVector.fromArray(S, x, xOff + i), acc0);
                acc1 = FloatVector.fromMemorySegment(S, src, base + 4L * (i + V), ByteOrder.LITTLE_ENDIAN).fma(FloatVector.fromArray(S, x, xOff + i + V), acc1);
            }
            if (i + V - phase <= n) acc0 = FloatVector.fromMemorySegment(S, src, base + 4L * i, ByteOrder.LITTLE_ENDIAN).fma(FloatVector.fromArray(S, x, xOff + i), acc0);
            s = MatmulKernel.addLanes(s, acc0.add(acc1));
        }
        for (int i = end; i < n; i++) s += src.get(LE_FLOAT, base + 4L * i) * x[xOff + i];
        return s;
    }
}
