package dev.featherweight.kernels.quant.gguf;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lane-parallel searches must give bit-identical results to the scalar ports of ggml-quants.c
 * for every lane, whatever the other lanes hold — including the degenerate sub-blocks the C code
 * leaves early (all zero, below 1e-15, constant) and the ones where only some lanes accept a step.
 */
class LaneSearchTest {
    private static final int LANES = LaneSearch.LANES;

    /** Eight sub-blocks of n values, lane j drawn from one of several shapes. */
    private static float[][] subBlocks(Random r, int n) {
        float[][] b = new float[LANES][n];
        for (int j = 0; j < LANES; j++) {
            int shape = r.nextInt(12);
            for (int i = 0; i < n; i++) {
                float g = (float) r.nextGaussian();
                b[j][i] = switch (shape) {
                    case 0 -> 0f;
                    case 1 -> 1e-20f;
                    case 2 -> 0.75f;
                    case 3 -> -0.75f;
                    case 4 -> Math.abs(g) * 0.05f;
                    case 5 -> -Math.abs(g) * 0.05f;
                    case 6 -> i == 3 ? 3f : 0f;
                    case 7 -> g * 1e-4f;
                    case 8 -> (r.nextInt(17) - 8) * 0.5f; // many exact ties
                    case 9 -> -1f + 2f * i / (n - 1);
                    case 10 -> r.nextInt(50) == 0 ? g * 0.4f : g * 0.05f;
                    default -> g * 0.05f;
                };
            }
        }
        return b;
    }

    private static float[] transpose(float[][] b, int n) {
        float[] t = new float[n * LANES];
        for (int j = 0; j < LANES; j++) for (int i = 0; i < n; i++) t[i * LANES + j] = b[j][i];
        return t;
    }

    @Test
    void qkx2MatchesTheScalarSearchLaneByLane() {
        Random r = new Random(12);
        int[][] configs = {{16, 3}, {32, 15}, {32, 31}};
        float[][] grid = {{-0.5f, 0.1f, 15}, {-1f, 0.1f, 20}, {-0.5f, 0.1f, 15}};
        for (int c = 0; c < configs.length; c++) {
            int n = configs[c][0], nmax = configs[c][1];
            boolean mad = n == 16;
            for (int round = 0; round < 400; round++) {
                float[][] b = subBlocks(r, n);
                float[][] w = new float[LANES][n];
                for (int j = 0; j < LANES; j++) for (int i = 0; i < n; i++) w[j][i] = Math.abs(b[j][i]) + (mad ? 0 : 0.01f);
                float[] Lt = new float[n * LANES], Laux = new float[n * LANES], scales = new float[LANES], mins = new float[LANES];
                LaneSearch.makeQkx2Quants(n, nmax, transpose(b, n), transpose(w, n), Lt, Laux, scales, mins, 0,
                        grid[c][0], grid[c][1], (int) grid[c][2], mad, new float[LaneSearch.STATE]);
                for (int j = 0; j < LANES; j++) {
                    byte[] L = new byte[n];
                    float[] min = new float[1];
                    float s = QuantSearch.makeQkx2Quants(n, nmax, b[j], 0, w[j], 0, L, 0, min, 0, new byte[n],
                            grid[c][0], grid[c][1], (int) grid[c][2], mad);
                    assertThat(Float.floatToRawIntBits(scales[j])).as("scale n=%d lane %d round %d", n, j, round).isEqualTo(Float.floatToRawIntBits(s));
                    assertThat(Float.floatToRawIntBits(mins[j])).as("min n=%d lane %d round %d", n, j, round).isEqualTo(Float.floatToRawIntBits(min[0]));
                    for (int i = 0; i < n; i++) assertThat((int) Lt[i * LANES + j]).isEqualTo(L[i]);
                }
            }
        }
    }

    @Test
    void qxMatchesTheScalarSearchLaneByLane() {
        Random r = new Random(13);
        for (int round = 0; round < 1000; round++) {
            float[][] b = subBlocks(r, 16);
            float[] Lt = new float[16 * LANES], scales = new float[LANES];
            // Q6_K's search (weights x²) on even rounds, Q3_K's imatrix search (nmax 4, given weights) on odd ones.
            boolean weighted = round % 2 == 1;
            int nmax = weighted ? 4 : 32;
            float[][] w = new float[LANES][16];
            for (int j = 0; j < LANES; j++) for (int i = 0; i < 16; i++) w[j][i] = (float) Math.exp(r.nextGaussian());
            LaneSearch.makeQxQuants(16, nmax, transpose(b, 16), weighted ? transpose(w, 16) : null, Lt, new float[16 * LANES],
                    scales, 0, new float[LaneSearch.STATE]);
            for (int j = 0; j < LANES; j++) {
                byte[] L = new byte[16];
                float s = QuantSearch.makeQxQuants(16, nmax, b[j], 0, L, 0, 1, weighted ? w[j] : null, 0);
                assertThat(Float.floatToRawIntBits(scales[j])).as("lane %d round %d", j, round).isEqualTo(Float.floatToRawIntBits(s));
                for (int i = 0; i < 16; i++) assertThat((int) Lt[i * LANES + j]).isEqualTo(L[i]);
            }
        }
    }

    @Test
    void q3MatchesTheScalarSearchLaneByLane() {
        Random r = new Random(14);
        for (int round = 0; round < 1000; round++) {
            float[][] b = subBlocks(r, 16);
            float[] Lt = new float[16 * LANES], scales = new float[LANES];
            LaneSearch.makeQ3Quants(16, 4, transpose(b, 16), Lt, scales, 0, new float[LaneSearch.STATE]);
            for (int j = 0; j < LANES; j++) {
                byte[] L = new byte[16];
                float s = QuantSearch.makeQ3Quants(16, 4, b[j], 0, L, 0, true);
                assertThat(Float.floatToRawIntBits(scales[j])).as("lane %d round %d", j, round).isEqualTo(Float.floatToRawIntBits(s));
                for (int i = 0; i < 16; i++) assertThat((int) Lt[i * LANES + j]).isEqualTo(L[i]);
            }
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void iq4nlLanesMatchTheScalarBlocks(boolean imatrix) {
        Random r = new Random(imatrix ? 15 : 16);
        GgufBlockCodec codec = GgufBlockCodecs.of(dev.featherweight.kernels.core.GgmlType.IQ4_NL);
        for (int round = 0; round < 300; round++) {
            float[][] b = subBlocks(r, 32);
            int n = 32 * 9; // eight blocks through the lanes, the ninth through the scalar code
            float[] x = new float[n];
            for (int j = 0; j < LANES; j++) System.arraycopy(b[j], 0, x, 32 * j, 32);
            for (int i = 256; i < n; i++) x[i] = (float) r.nextGaussian();
            float[] qw = null;
            if (imatrix) {
                qw = new float[n];
                for (int i = 0; i < n; i++) qw[i] = (float) Math.exp(r.nextGaussian());
            }
            byte[] lanes = new byte[(int) codec.rowBytes(n)];
            codec.quantizeRow(x, 0, n, java.lang.foreign.MemorySegment.ofArray(lanes), 0, qw);
            byte[] scalar = new byte[lanes.length];
            for (int ib = 0; ib < 9; ib++) IQ4_NLCodec.quantizeBlockScalar(x, 32 * ib, scalar, 18 * ib, qw, 32 * ib);
            assertThat(lanes).as("round %d", round).isEqualTo(scalar);
        }
    }
}
