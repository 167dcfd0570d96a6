package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.MatmulKernel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The dot of the grid/ternary types: each super-block is decoded into a small per-thread buffer (256 floats,
 * L1-resident) and multiplied into vector accumulators at the CPU's preferred width, so a row is never decoded
 * whole. Loops are written for any lane count (16 bytes and up); the lanes are summed lane 0 first.
 */
final class BlockDot {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private BlockDot() {
    }

    /** Decodes block {@code b} (QK weights) of a row into w[0 .. QK). */
    @FunctionalInterface
    interface BlockDecoder {
        void decode(byte[] row, int block, float[] w);
    }

    private static final ThreadLocal<float[]> BLOCK = ThreadLocal.withInitial(() -> new float[256]);

    /** Σ over the row's blocks of block·x, with {@code blockSize} a multiple of 16 (256 for every user). */
    static float dot(byte[] row, int n, int blockSize, BlockDecoder decoder, float[] x, int xOff) {
        float[] w = BLOCK.get();
        int lanes = S.length();
        FloatVector acc0 = FloatVector.zero(S), acc1 = acc0;
        float tail = 0;
        for (int b = 0, nb = n / blockSize; b < nb; b++) {
            decoder.decode(row, b, w);
            int xo = xOff + b * blockSize, i = 0;
            for (; i + 2 * lanes <= blockSize; i += 2 * lanes) {
                acc0 = FloatVector.fromArray(S, w, i).fma(FloatVector.fromArray(S, x, xo + i), acc0);
                acc1 = FloatVector.fromArray(S, w, i + lanes).fma(FloatVector.fromArray(S, x, xo + i + lanes), acc1);
            }
            for (; i + lanes <= blockSize; i += lanes) acc0 = FloatVector.fromArray(S, w, i).fma(FloatVector.fromArray(S, x, xo + i), acc0);
            for (; i < blockSize; i++) tail += w[i] * x[xo + i];
        }
        return MatmulKernel.sumLanes(acc0.add(acc1)) + tail;
    }
}
