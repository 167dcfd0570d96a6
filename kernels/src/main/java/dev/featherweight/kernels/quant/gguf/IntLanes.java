package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.VectorWidth;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Shapes and summation order of the integer dot products ({@link GgufBlockCodec#dotRowQ8}).
 *
 * <p>Why 16-bit lanes: the Vector API has no VNNI or {@code pmaddubsw}, so bytes are widened to shorts and
 * multiplied there ({@code vpmullw}, 16 products per instruction at 256 bits). A product of a weight (≥ −128) and an
 * activation quant (|q| ≤ 127) fits 15 bits, and so does the sum of two (|Σ| ≤ 32,512). The short lanes are then
 * split into int lanes by reinterpreting pairs of shorts as ints and shifting (even lane: {@code (i << 16) >> 16},
 * odd lane: {@code i >> 16}) — measured 1.6× faster here than the Vector API's widening conversions, which
 * need a cross-lane shuffle for their upper part — and converted to float.
 *
 * <p>Order: a block is summed in {@link #VIRTUAL_LANES} = 16 lanes whatever the CPU's width: lane v holds elements
 * v and v + 16 of a 32-block (Q8_0, Q4_0). The integer lane sums are exact; each is converted to float and multiply-added with the block's scale product into float lane
 * v (as llama.cpp's SIMD dots do: {@code acc = fma(d_w·d_x, float(sumi), acc)}), and the 16 float lanes are added one
 * by one, lane 0 first. At most 256-bit vectors are used (a 512-bit CPU runs them natively); a 128-bit CPU makes two
 * passes of 8 lanes. So the result is the same bits at 128, 256 and 512 bits.
 */
final class IntLanes {
    private IntLanes() {
    }

    static final int VIRTUAL_LANES = 16;
    private static final VectorShape SHAPE = VectorShape.forBitSize(Math.min(256, VectorWidth.FLOATS.vectorBitSize()));
    /** Floats (and the ints they come from) per vector: 8, or 4 on a 128-bit CPU. */
    static final VectorSpecies<Float> F = VectorSpecies.of(float.class, SHAPE);
    /** Shorts per vector: twice the floats (16 or 8) — one pass covers that many virtual lanes. */
    static final VectorSpecies<Short> SH = VectorSpecies.of(short.class, SHAPE);
    /** As many bytes as {@link #SH} has shorts. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(SHAPE.vectorBitSize() / 2));
    static final int SL = SH.length();
    static final int L = F.length();

    static {
        if (VIRTUAL_LANES % SL != 0 || SL != 2 * L) throw new ExceptionInInitializerError("vectors of " + SHAPE);
    }

    static FloatVector zero() {
        return FloatVector.zero(F);
    }

    /** Loads SL activation quants from q[off ..]. */
    static ShortVector x(short[] q, int off) {
        return ShortVector.fromArray(SH, q, off);
    }

    /** The even short lanes 0, 2, 4, … of p as ints, sign-extended. */
    static IntVector even(ShortVector p) {
        return p.reinterpretAsInts().lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16);
    }

    /** The odd short lanes 1, 3, 5, … of p as ints, sign-extended. */
    static IntVector odd(ShortVector p) {
        return p.reinterpretAsInts().lanewise(VectorOperators.ASHR, 16);
    }

    static FloatVector toFloat(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    /**
     * s + even[0] + odd[0] + even[1] + …: virtual lanes h … h+SL−1 in order, from the two accumulators stored into
     * arrays by the caller (a call with vectors as arguments would box them when it is not inlined).
     */
    static float addLanes(float s, float[] even, float[] odd) {
        for (int k = 0; k < L; k++) {
            s += even[k];
            s += odd[k];
        }
        return s;
    }
}
