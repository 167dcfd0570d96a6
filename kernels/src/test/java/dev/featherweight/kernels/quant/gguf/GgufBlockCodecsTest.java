package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.HalfFloats;
import dev.featherweight.kernels.core.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Synthetic checks of the codecs: round-trip error, thread independence, layouts of special blocks, validation. */
class GgufBlockCodecsTest {

    private static float[] gaussian(int n, long seed, float sigma) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * sigma);
        return x;
    }

    private static byte[] quantize(GgmlType type, float[] x, float[] importance) {
        GgufBlockCodec c = GgufBlockCodecs.of(type);
        MemorySegment out = MemorySegment.ofArray(new byte[(int) c.rowBytes(x.length)]);
        c.quantizeRow(x, 0, x.length, out, 0, importance);
        return out.toArray(ValueLayout.JAVA_BYTE);
    }

    private static float[] dequantize(GgmlType type, byte[] q, int n) {
        float[] x = new float[n];
        GgufBlockCodecs.of(type).dequantizeRow(MemorySegment.ofArray(q), 0, x, 0, n);
        return x;
    }

    private static double relativeRmse(float[] a, float[] b) {
        double err = 0, ref = 0;
        for (int i = 0; i < a.length; i++) {
            err += (a[i] - b[i]) * (double) (a[i] - b[i]);
            ref += a[i] * (double) a[i];
        }
        return Math.sqrt(err / ref);
    }

    /** Relative RMS error of dequantize(quantize(x)) on Gaussian weights: what each bit width should achieve. */
    @ParameterizedTest
    @CsvSource({"F16, 0.0005", "BF16, 0.004", "Q8_0, 0.0065", "Q6_K, 0.021", "Q5_1, 0.045", "Q5_0, 0.05",
            "Q5_K, 0.044", "Q4_1, 0.095", "Q4_0, 0.1", "Q4_K, 0.085", "IQ4_NL, 0.09", "Q3_K, 0.18", "Q2_K, 0.36",
            "Q8_K, 0.008", "F32, 0"})
    void roundTripErrorMatchesTheBitWidth(GgmlType type, double bound) {
        float[] x = gaussian(4096, 42, 0.05f);
        float[] y = dequantize(type, quantize(type, x, null), x.length);
        double e = relativeRmse(x, y);
        assertThat(e).isLessThanOrEqualTo(bound);
        if (bound > 0) assertThat(e).isGreaterThan(bound / 20); // a lossy type that is lossless would be a bug
    }

    /** With an imatrix the weighted search must do at least about as well in the importance-weighted error. */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL"})
    void imatrixLowersTheWeightedError(GgmlType type) {
        int n = 1024;
        float[] x = gaussian(n * 8, 7, 0.05f);
        float[] imp = new float[n];
        Random r = new Random(3);
        for (int i = 0; i < n; i++) imp[i] = (float) Math.exp(3 * r.nextGaussian());
        double plain = 0, weighted = 0;
        GgufBlockCodec c = GgufBlockCodecs.of(type);
        for (int row = 0; row < 8; row++) {
            float[] xr = java.util.Arrays.copyOfRange(x, row * n, (row + 1) * n);
            float[] a = dequantize(type, quantize(type, xr, null), n);
            float[] b = dequantize(type, quantize(type, xr, imp), n);
            for (int i = 0; i < n; i++) {
                plain += imp[i] * (xr[i] - a[i]) * (xr[i] - a[i]);
                weighted += imp[i] * (xr[i] - b[i]) * (xr[i] - b[i]);
            }
        }
        assertThat(c.type()).isEqualTo(type);
        assertThat(weighted).isLessThan(plain * 1.02);
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K",
            "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "Q8_K"})
    void bytesDoNotDependOnTheThreadCount(GgmlType type) {
        int n = 512, rows = 37;
        float[] x = gaussian(n * rows, 11, 1f);
        float[] imp = type == GgmlType.Q8_K ? null : gaussianAbs(n);
        GgufBlockCodec c = GgufBlockCodecs.of(type);
        try (Arena arena = Arena.ofShared()) {
            long bytes = c.rowBytes(n) * rows;
            MemorySegment one = arena.allocate(bytes), three = arena.allocate(bytes);
            GgufBlockCodecs.quantizeRows(c, x, 0, rows, n, one, 0, imp, 1);
            GgufBlockCodecs.quantizeRows(c, x, 0, rows, n, three, 0, imp, 3);
            assertThat(one.mismatch(three)).isEqualTo(-1);
            MemorySegment f32 = arena.allocate(4L * n * rows);
            MemorySegment.copy(x, 0, f32, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, x.length);
            MemorySegment fromSegment = arena.allocate(bytes);
            GgufBlockCodecs.quantizeRows(c, f32, 0, rows, n, fromSegment, 0, imp, 2);
            assertThat(fromSegment.mismatch(one)).isEqualTo(-1);
        }
    }

    private static float[] gaussianAbs(int n) {
        float[] v = gaussian(n, 5, 1f);
        for (int i = 0; i < n; i++) v[i] = Math.abs(v[i]) + 0.01f;
        return v;
    }

    @Test
    void q8_0RoundsTiesAwayFromZero() {
        float[] x = new float[32];
        float[] ties = {127, 2.5f, -2.5f, 0.5f, -0.5f, 1.5f, -1.5f, 126.5f};
        System.arraycopy(ties, 0, x, 0, ties.length);
        byte[] q = quantize(GgmlType.Q8_0, x, null);
        assertThat(HalfFloats.fp16ToFp32((short) ((q[0] & 0xFF) | (q[1] << 8)))).isEqualTo(1.0f);
        assertThat(new byte[]{q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9]}).containsExactly(127, 3, -3, 1, -1, 2, -2, 127);
    }

    @Test
    void nearestIntRoundsHalfToEven() {
        assertThat(QuantSearch.nearestInt(2.5f)).isEqualTo(2);
        assertThat(QuantSearch.nearestInt(3.5f)).isEqualTo(4);
        assertThat(QuantSearch.nearestInt(-2.5f)).isEqualTo(-2);
        assertThat(QuantSearch.nearestInt(-0.4f)).isEqualTo(0);
        assertThat(QuantSearch.roundAwayFromZero(-2.5f)).isEqualTo(-3);
        assertThat(QuantSearch.roundAwayFromZero(0.49999997f)).isEqualTo(0);
    }

    @Test
    void zeroBlocksAreEncodedAsLlamaCppDoes() {
        float[] zero = new float[256];
        assertThat(quantize(GgmlType.Q6_K, zero, null)).containsOnly(0);
        assertThat(quantize(GgmlType.Q4_K, zero, null)).containsOnly(0);
        byte[] iq4 = quantize(GgmlType.IQ4_NL, new float[32], null);
        assertThat(iq4[0]).isZero();
        assertThat(iq4[1]).isZero();
        for (int i = 2; i < 18; i++) assertThat(iq4[i]).isEqualTo((byte) 0x88); // index 8 = value 1, nearest to 0
    }

    @Test
    void iq4nlPicksTheNearestTableValueAndTheUpperOneAtAMidpoint() {
        byte[] v = IQ4_NLCodec.KVALUES;
        assertThat(QuantSearch.bestIndexInt8(16, v, -200)).isZero();
        assertThat(QuantSearch.bestIndexInt8(16, v, 500)).isEqualTo(15);
        assertThat(QuantSearch.bestIndexInt8(16, v, -4.5f)).isEqualTo(8); // midpoint of -10 and 1
        assertThat(QuantSearch.bestIndexInt8(16, v, -4.6f)).isEqualTo(7);
        assertThat(QuantSearch.bestIndexInt8(16, v, 12)).isEqualTo(9);
    }

    @Test
    void iq4nlReproducesAScaledTableRow() {
        // A block made of table values times 0.01 is on the grid: every index must be recovered.
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) x[j] = IQ4_NLCodec.KVALUES[(j * 5) % 16] * 0.01f;
        byte[] q = quantize(GgmlType.IQ4_NL, x, null);
        for (int j = 0; j < 16; j++) {
            assertThat(q[2 + j] & 0xF).isEqualTo((j * 5) % 16);
            assertThat((q[2 + j] & 0xFF) >> 4).isEqualTo(((j + 16) * 5) % 16);
        }
    }

    @Test
    void fp16ConversionIsRoundToNearestEvenWithGgmlNaN() {
        Random r = new Random(1);
        for (int i = 0; i < 200_000; i++) {
            float f = Float.intBitsToFloat(r.nextInt());
            if (Float.isNaN(f)) continue;
            assertThat(HalfFloats.fp32ToFp16(f)).as("%a", f).isEqualTo(Float.floatToFloat16(f));
        }
        assertThat(HalfFloats.fp32ToFp16(65520f)).isEqualTo((short) 0x7c00);
        assertThat(HalfFloats.fp32ToFp16(65519f)).isEqualTo((short) 0x7bff);
        assertThat(HalfFloats.fp32ToFp16(Float.NaN)).isEqualTo((short) 0x7e00);
        assertThat(HalfFloats.fp32ToFp16(Float.intBitsToFloat(0xff800001))).isEqualTo((short) 0xfe00);
        assertThat(HalfFloats.fp32ToFp16(0x1.0p-25f)).isEqualTo((short) 0); // tie between 0 and the smallest subnormal
        assertThat(HalfFloats.fp32ToFp16(0x1.8p-25f)).isEqualTo((short) 1);
    }

    @Test
    void bf16ConversionRoundsToEvenAndKeepsNaNQuiet() {
        assertThat(HalfFloats.fp32ToBf16(Float.intBitsToFloat(0x3f808000))).isEqualTo((short) 0x3f80); // tie → even
        assertThat(HalfFloats.fp32ToBf16(Float.intBitsToFloat(0x3f818000))).isEqualTo((short) 0x3f82);
        assertThat(HalfFloats.fp32ToBf16(Float.intBitsToFloat(0x7f800001))).isEqualTo((short) 0x7fc0); // sNaN → quiet, not inf
        assertThat(HalfFloats.fp32ToBf16(Float.intBitsToFloat(0xffc00001))).isEqualTo((short) 0xffc0);
        assertThat(HalfFloats.fp32ToBf16(Float.intBitsToFloat(0x7f7fffff))).isEqualTo((short) 0x7f80); // max float → inf
        assertThat(HalfFloats.bf16ToFp32((short) 0x3f80)).isEqualTo(1.0f);
    }

    @Test
    void validationRejectsNonFiniteScalesNamingTheBlock() {
        float[] x = gaussian(64, 2, 1f);
        byte[] q = quantize(GgmlType.Q4_1, x, null);
        GgufBlockCodecs.validateRowData(GgmlType.Q4_1, MemorySegment.ofArray(q), 0, q.length);
        q[20 + 2] = 0;
        q[20 + 3] = (byte) 0x7c; // block 1, m = +inf
        assertThatThrownBy(() -> GgufBlockCodecs.validateRowData(GgmlType.Q4_1, MemorySegment.ofArray(q), 0, q.length))
                .isInstanceOf(InvalidBlockDataException.class).hasMessageContaining("block 1").hasMessageContaining("inf");
        assertThatThrownBy(() -> GgufBlockCodecs.validateRowData(GgmlType.Q4_1, MemorySegment.ofArray(q), 0, 30))
                .isInstanceOf(InvalidBlockDataException.class).hasMessageContaining("invalid size 30");
        byte[] f16 = {0, 0, 1, (byte) 0x7c};
        assertThatThrownBy(() -> GgufBlockCodecs.validateRowData(GgmlType.F16, MemorySegment.ofArray(f16), 0, 4))
                .hasMessageContaining("block 1").hasMessageContaining("nan");
    }

    @Test
    void rejectsRowsThatAreNotWholeBlocksAndWrongImportance() {
        GgufBlockCodec c = GgufBlockCodecs.of(GgmlType.Q4_K);
        MemorySegment out = MemorySegment.ofArray(new byte[1024]);
        assertThatThrownBy(() -> c.quantizeRow(new float[288], 0, 288, out, 0, null)).hasMessageContaining("multiple of 256");
        assertThatThrownBy(() -> c.quantizeRow(new float[256], 0, 256, out, 0, new float[255])).hasMessageContaining("importance");
        assertThatThrownBy(() -> GgufBlockCodecs.of(GgmlType.I8)).hasMessageContaining("no GGUF block codec");
        assertThat(GgufBlockCodecs.requiresImatrix(GgmlType.Q2_K)).isFalse();
        assertThat(GgufBlockCodecs.requiresImatrix(16)).isTrue();
    }
}
