package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The IQ3/IQ4_XS/TQ codecs beyond the whole-file goldens of {@link IqGoldenTest}: their error per bit width, the
 * imatrix, thread independence, the vectorized dot and the derived grid tables against ggml-common.h.
 */
class IqCodecsTest {
    private static float[] gaussian(int n, long seed, float sigma) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * sigma);
        return x;
    }

    private static byte[] quantize(GgmlType type, float[] x, float[] importance) {
        GgufBlockCodec c = GgufBlockCodecs.of(type);
        MemorySegment seg = MemorySegment.ofArray(new byte[(int) c.rowBytes(x.length)]);
        c.quantizeRow(x, 0, x.length, seg, 0, importance);
        return seg.toArray(ValueLayout.JAVA_BYTE);
    }

    private static float[] dequantize(GgmlType type, byte[] q, int n) {
        float[] y = new float[n];
        GgufBlockCodecs.of(type).dequantizeRow(MemorySegment.ofArray(q), 0, y, 0, n);
        return y;
    }

    private static double relativeRmse(float[] a, float[] b) {
        double err = 0, ref = 0;
        for (int i = 0; i < a.length; i++) {
            err += (a[i] - b[i]) * (double) (a[i] - b[i]);
            ref += a[i] * (double) a[i];
        }
        return Math.sqrt(err / ref);
    }

    /** Relative RMS error of dequantize(quantize(x)) on Gaussian weights, between what the bit width allows and lossless. */
    @ParameterizedTest
    @CsvSource({"IQ4_XS, 0.09", "IQ3_S, 0.19", "IQ3_XXS, 0.23", "TQ2_0, 0.85", "TQ1_0, 0.85"})
    void roundTripErrorMatchesTheBitWidth(GgmlType type, double bound) {
        float[] x = gaussian(4096, 42, 0.05f);
        double e = relativeRmse(x, dequantize(type, quantize(type, x, null), x.length));
        assertThat(e).isLessThanOrEqualTo(bound).isGreaterThan(bound / 20);
    }

    /** With an imatrix the weighted search must do at least about as well in the importance-weighted error. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"IQ4_XS", "IQ3_S", "IQ3_XXS"})
    void imatrixLowersTheWeightedError(GgmlType type) {
        int n = 1024;
        float[] x = gaussian(n * 8, 7, 0.05f);
        float[] imp = new float[n];
        Random r = new Random(3);
        for (int i = 0; i < n; i++) imp[i] = (float) Math.exp(3 * r.nextGaussian());
        double plain = 0, weighted = 0;
        for (int row = 0; row < 8; row++) {
            float[] xr = Arrays.copyOfRange(x, row * n, (row + 1) * n);
            float[] a = dequantize(type, quantize(type, xr, null), n);
            float[] b = dequantize(type, quantize(type, xr, imp), n);
            for (int i = 0; i < n; i++) {
                plain += imp[i] * (xr[i] - a[i]) * (xr[i] - a[i]);
                weighted += imp[i] * (xr[i] - b[i]) * (xr[i] - b[i]);
            }
        }
        assertThat(weighted).isLessThan(plain * 1.02);
    }

    /** quantize_tq1_0/tq2_0 ignore the importance matrix (llama-quantize writes the same bytes with and without). */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"TQ1_0", "TQ2_0"})
    void ternaryTypesIgnoreTheImatrix(GgmlType type) {
        float[] x = gaussian(1024, 5, 1f);
        float[] imp = new float[1024];
        Arrays.fill(imp, 3f);
        imp[7] = 1000f;
        byte[] plain = quantize(type, x, null);
        assertThat(quantize(type, x, imp)).containsExactly(plain);
        // and they are ternary: every decoded weight is -d, 0 or +d of its block
        float[] y = dequantize(type, plain, x.length);
        for (int b = 0; b < 4; b++) {
            float d = 0;
            for (int j = 0; j < 256; j++) d = Math.max(d, Math.abs(y[256 * b + j]));
            for (int j = 0; j < 256; j++) assertThat(Math.abs(y[256 * b + j])).isIn(0f, d);
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"IQ4_XS", "IQ3_S", "IQ3_XXS", "TQ1_0", "TQ2_0"})
    void bytesDoNotDependOnTheThreadCountAndZeroRowsStayZero(GgmlType type) {
        int n = 512, rows = 9;
        float[] x = gaussian(n * rows, 11, 1f);
        Arrays.fill(x, 2 * n, 3 * n, 0f);            // an all-zero row
        Arrays.fill(x, 4 * n + 32, 4 * n + 64, 0f);  // an all-zero sub-block
        float[] imp = new float[n];
        Arrays.fill(imp, 1f);
        GgufBlockCodec c = GgufBlockCodecs.of(type);
        try (Arena arena = Arena.ofShared()) {
            long bytes = c.rowBytes(n) * rows;
            MemorySegment one = arena.allocate(bytes), three = arena.allocate(bytes);
            GgufBlockCodecs.quantizeRows(c, x, 0, rows, n, one, 0, imp, 1);
            GgufBlockCodecs.quantizeRows(c, x, 0, rows, n, three, 0, imp, 3);
            assertThat(one.mismatch(three)).isEqualTo(-1);
            float[] y = new float[n];
            c.dequantizeRow(one, 2 * c.rowBytes(n), y, 0, n);
            for (float v : y) assertThat(Math.abs(v)).isZero(); // IQ4_XS stores d = -0/32 = -0 as ggml does
            if (type != GgmlType.IQ3_XXS && type != GgmlType.IQ3_S) {
                // (ggml's IQ3 quantizers skip a zero sub-block without storing it: IQ3_XXS decodes it as d,
                // IQ3_S shifts the next sub-block's indices into its place — the goldens pin that behaviour)
                c.dequantizeRow(one, 4 * c.rowBytes(n), y, 0, n);
                for (int j = 32; j < 64; j++) assertThat(Math.abs(y[j])).as("weight %d of the zero sub-block", j).isZero();
            }
            GgufBlockCodecs.validateRowData(type, one, 0, bytes);
        }
    }

    /** dotRow (per-block decode into vector accumulators) against a double dot of the reference decode. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"IQ4_XS", "IQ3_S", "IQ3_XXS", "TQ1_0", "TQ2_0"})
    void dotRowIsTheDotOfTheDecodedRow(GgmlType type) {
        int n = 1024;
        float[] w = gaussian(n, 21, 0.05f), x = gaussian(n + 3, 22, 1f);
        byte[] q = quantize(type, w, null);
        float[] ref = dequantize(type, q, n);
        double s = 0, mag = 0;
        for (int i = 0; i < n; i++) {
            s += (double) ref[i] * x[3 + i];
            mag += Math.abs((double) ref[i] * x[3 + i]);
        }
        float got = GgufBlockCodecs.of(type).dotRow(MemorySegment.ofArray(q), 0, x, 3, n);
        assertThat((double) got).isCloseTo(s, org.assertj.core.data.Offset.offset(1e-5 * mag + 1e-7));
    }

    /** The derived dequantization grids equal ggml-common.h's iq3xxs_grid / iq3s_grid entries (first, middle, last). */
    @Test
    void derivedGridsEqualGgmlCommonTables() {
        assertThat(packed(Iq3Lattice.XXS, 0)).isEqualTo(0x04040404);
        assertThat(packed(Iq3Lattice.XXS, 5)).isEqualTo(0x04040c3e);
        assertThat(packed(Iq3Lattice.XXS, 10)).isEqualTo(0x04043e1c);
        assertThat(packed(Iq3Lattice.XXS, 128)).isEqualTo(0x141c3e04);
        assertThat(packed(Iq3Lattice.XXS, 255)).isEqualTo(0x3e341c04);
        assertThat(packed(Iq3Lattice.S, 0)).isEqualTo(0x01010101);
        assertThat(packed(Iq3Lattice.S, 3)).isEqualTo(0x0101010b);
        assertThat(packed(Iq3Lattice.S, 7)).isEqualTo(0x01010305);
        // every point off the grid has at least one neighbour, every grid point maps to itself
        for (Iq3Lattice g : new Iq3Lattice[]{Iq3Lattice.XXS, Iq3Lattice.S}) {
            int on = 0;
            for (int u = 0; u < 4096; u++) {
                if (g.map[u] >= 0) on++;
                else assertThat((int) g.neighbours[-g.map[u] - 1]).isPositive();
            }
            assertThat(on).isEqualTo(g.size);
        }
    }

    private static int packed(Iq3Lattice g, int k) {
        int v = 0;
        for (int i = 0; i < 4; i++) v |= ((int) g.values[4 * k + i]) << (8 * i);
        return v;
    }
}
