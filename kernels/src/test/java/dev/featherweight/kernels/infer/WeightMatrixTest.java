package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodec;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodecs;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every GGUF type's forward-pass row decode (the codecs' vectorized {@code decodeRow}) against their scalar dequantizer (dequantize_row_* of ggml-quants.c): decodeRow must
 * give the same floats, and the tiled Vector API matmul must equal a double-precision dot product of those
 * rows for odd batch sizes and row counts (tails of the 4×2 kernel).
 */
class WeightMatrixTest {
    /** Every type of the codec table, so a new type is covered the day it is added. */
    static Stream<GgmlType> typesWithACodec() {
        return GgufBlockCodecs.supported().stream();
    }

    @Test
    void everyWeightTypeOfTheForwardPassIsTested() {
        assertThat(GgufBlockCodecs.supported()).contains(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
                GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K,
                GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL);
    }

    @Test
    void aTypeWithoutCodecIsRefusedNamingTheTensor() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = new Tensor("blk.0.idx", GgmlType.I32, new long[]{4, 4}, arena.allocate(64));
            assertThatThrownBy(() -> WeightMatrices.of(t)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("blk.0.idx").hasMessageContaining("I32");
        }
    }

    @ParameterizedTest
    @MethodSource("typesWithACodec")
    void decodesLikeTheReferenceAndMultipliesCorrectly(GgmlType type) {
        int rows = 37, cols = 512;
        Random rnd = new Random(42 + type.ordinal());
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextGaussian() * 0.05 + (i % 7 == 0 ? 0.02 : 0));
        GgufBlockCodec codec = GgufBlockCodecs.of(type);
        long rowBytes = type.rowBytes(cols);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(rowBytes * rows, 16);
            // the types ggml quantizes only with importance weights get uniform ones
            float[] importance = GgufBlockCodecs.requiresImatrix(type) ? new float[cols] : null;
            if (importance != null) java.util.Arrays.fill(importance, 1f);
            for (int r = 0; r < rows; r++) codec.quantizeRow(w, r * cols, cols, seg, r * rowBytes, importance);
            WeightMatrix m = WeightMatrices.of(new Tensor("w", type, new long[]{rows, cols}, seg));
            assertThat(m.rows()).isEqualTo(rows);
            assertThat(m.cols()).isEqualTo(cols);
            float[] ref = new float[rows * cols], got = new float[rows * cols];
            for (int r = 0; r < rows; r++) {
                codec.dequantizeRow(seg, r * rowBytes, ref, r * cols, cols);
                m.decodeRow(r, got, r * cols);
            }
            assertThat(got).containsExactly(ref);

            for (int nTokens : new int[]{1, 2, 5}) {
                float[] x = new float[nTokens * cols];
                for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                float[] out = new float[nTokens * rows];
                try (Parallel pool = new Parallel(2)) {
                    m.matmul(x, nTokens, out, pool);
                }
                for (int t = 0; t < nTokens; t++) {
                    for (int r = 0; r < rows; r++) {
                        double s = 0, mag = 0;
                        for (int c = 0; c < cols; c++) {
                            s += (double) ref[r * cols + c] * x[t * cols + c];
                            mag += Math.abs((double) ref[r * cols + c] * x[t * cols + c]);
                        }
                        assertThat((double) out[t * rows + r]).as("%s token %d row %d", type, t, r).isCloseTo(s, org.assertj.core.data.Offset.offset(1e-5 * mag + 1e-7));
                    }
                }
            }
        }
    }
}
