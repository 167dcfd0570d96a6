package dev.featherweight.kernels.bench;

import java.util.Random;

/** Seeded inputs shared by the quantization benchmarks (GPTQ, AWQ, NF4). */
final class BenchData {
    private BenchData() {
    }

    /** n weights from N(0, std²). */
    static float[] gaussian(int n, double std, Random r) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) w[i] = (float) (r.nextGaussian() * std);
        return w;
    }

    /** Activations with a few heavy channels and a low-rank shared component, as real hidden states have. */
    static float[] calibrationTokens(int n, int cols, Random r) {
        float[] x = new float[n * cols];
        float[] channelScale = new float[cols];
        for (int c = 0; c < cols; c++) channelScale[c] = (float) Math.exp(r.nextGaussian() * 0.5) * (r.nextInt(200) == 0 ? 20 : 1);
        float[][] basis = new float[8][cols];
        for (float[] b : basis) for (int c = 0; c < cols; c++) b[c] = (float) r.nextGaussian();
        for (int t = 0; t < n; t++) {
            double[] mix = new double[basis.length];
            for (int k = 0; k < mix.length; k++) mix[k] = r.nextGaussian();
            for (int c = 0; c < cols; c++) {
                double v = r.nextGaussian();
                for (int k = 0; k < mix.length; k++) v += 0.5 * mix[k] * basis[k][c];
                x[t * cols + c] = (float) (v * channelScale[c]);
            }
        }
        return x;
    }
}
