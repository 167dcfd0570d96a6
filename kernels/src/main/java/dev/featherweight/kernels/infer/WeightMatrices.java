package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;

/** Weight matrices and plain float vectors from mapped GGUF-typed tensors. */
public final class WeightMatrices {
    private WeightMatrices() {
    }

    /** The tensor as a matrix; any type with a GGUF codec (GgufBlockCodecs.supported()). */
    public static BlockMatrix of(Tensor t) {
        return new BlockMatrix(t);
    }

    /** A 1-D (or any) tensor read whole as floats: norm weights, biases. */
    public static float[] toFloats(Tensor t) {
        BlockMatrix m = of(t);
        float[] out = new float[Math.toIntExact((long) m.rows() * m.cols())];
        for (int r = 0; r < m.rows(); r++) m.decodeRow(r, out, r * m.cols());
        return out;
    }
}
