package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.quant.ActivationQuantization;

/**
 * A W8A8 linear as a serving engine runs it: the input is rounded to int8 or FP8 with its scale
 * ({@link ActivationQuantization}) before it meets the weights, so perplexity and KL divergence measure the
 * activations' precision as well as the weights'. Decoding the weights is the wrapped matrix's.
 */
public final class ActivationQuantizedMatrix implements WeightMatrix {
    private final WeightMatrix weights;
    private final ActivationQuantization activations;

    public ActivationQuantizedMatrix(WeightMatrix weights, ActivationQuantization activations) {
        this.weights = weights;
        this.activations = activations;
    }

    public WeightMatrix weights() {
        return weights;
    }

    public ActivationQuantization activations() {
        return activations;
    }

    @Override
    public int rows() {
        return weights.rows();
    }

    @Override
    public int cols() {
        return weights.cols();
    }

    @Override
    public String format() {
        return weights.format() + "-a8";
    }

    @Override
    public void decodeRow(int row, float[] dst, int off) {
        weights.decodeRow(row, dst, off);
    }

    @Override
    public void matmul(float[] x, int nTokens, float[] out, Parallel pool) {
        float[] xq = new float[nTokens * cols()];
        activations.apply(x, nTokens, cols(), xq);
        weights.matmul(xq, nTokens, out, pool);
    }

    @Override
    public long storageBytes() {
        return weights.storageBytes();
    }
}
