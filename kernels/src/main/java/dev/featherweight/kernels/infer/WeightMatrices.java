package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;

/** Picks the weight class for a tensor's type: the one place that maps {@code GgmlType} → {@link WeightMatrix}. */
public final class WeightMatrices {
    private WeightMatrices() {
    }

    public static BlockMatrix of(Tensor t) {
        return switch (t.type()) {
            case F32 -> new F32Matrix(t);
            case F16 -> new F16Matrix(t);
            case BF16 -> new BF16Matrix(t);
            case Q8_0 -> new Q8_0Matrix(t);
            case Q4_0 -> new Q4_0Matrix(t);
            case Q4_1 -> new Q4_1Matrix(t);
            case Q5_0 -> new Q5_0Matrix(t);
            case Q5_1 -> new Q5_1Matrix(t);
            case Q2_K -> new Q2_KMatrix(t);
            case Q3_K -> new Q3_KMatrix(t);
            case Q4_K -> new Q4_KMatrix(t);
            case Q5_K -> new Q5_KMatrix(t);
            case Q6_K -> new Q6_KMatrix(t);
            case IQ4_NL -> new IQ4_NLMatrix(t);
            default -> throw new IllegalArgumentException("tensor '" + t.name() + "': weight type " + t.type() + " is not supported by the forward pass");
        };
    }

    /** A 1-D (or any) tensor read whole as floats: norm weights, biases. */
    public static float[] toFloats(Tensor t) {
        BlockMatrix m = of(t);
        float[] out = new float[Math.toIntExact((long) m.rows() * m.cols())];
        for (int r = 0; r < m.rows(); r++) m.decodeRow(r, out, r * m.cols());
        return out;
    }
}
