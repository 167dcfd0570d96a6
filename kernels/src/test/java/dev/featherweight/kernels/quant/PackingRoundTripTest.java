package dev.featherweight.kernels.quant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Packing and unpacking of GPTQ (bits 2/3/4/8, v1 and v2 zeros) and AWQ (interleaved order) codes. */
class PackingRoundTripTest {

    static float[] randomWeights(int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * 0.05);
        return w;
    }

    @ParameterizedTest
    @CsvSource({"2,true", "3,true", "4,true", "8,true", "2,false", "3,false", "4,false", "8,false"})
    void gptqQweightAndQzerosRoundTrip(int bits, boolean sym) {
        int rows = 64, cols = 128;
        QuantizedLinear q = Rtn.quantize(randomWeights(rows, cols, bits), rows, cols, bits, sym, Rtn.Granularity.GROUP, 32, true);
        int[] qw = Packing.gptqQweight(q);
        assertThat(qw).hasSize(cols * bits / 32 * rows);
        assertThat(Packing.gptqUnpackQweight(qw, rows, cols, bits)).isEqualTo(q.codes());
        for (boolean v2 : new boolean[]{false, true}) {
            int[] qz = Packing.gptqQzeros(q, v2);
            assertThat(Packing.gptqUnpackQzeros(qz, q.groups(), rows, bits, v2)).isEqualTo(q.zeros());
        }
    }

    /** The 3-bit layout of AutoGPTQ's pack(): values 10 and 21 of each run of 32 straddle word boundaries. */
    @Test
    void threeBitStraddlesLikeTheReference() {
        int rows = 1, cols = 32;
        byte[] codes = new byte[32];
        codes[10] = 0b101; // low two bits in word 0 bits 30-31, high bit in word 1 bit 0
        codes[21] = 0b110; // low bit in word 1 bit 31, high two bits in word 2 bits 0-1
        codes[31] = 0b111; // word 2 bits 29-31
        int[] g = new int[32];
        QuantizedLinear q = new QuantizedLinear(rows, cols, 3, -1, true, codes, new float[]{1f}, new int[]{4}, g, 0);
        int[] w = Packing.gptqQweight(q);
        assertThat(w).hasSize(3);
        assertThat(w[0]).isEqualTo(0b01 << 30);
        assertThat(w[1]).isEqualTo(1 | (0 << 31));
        assertThat(w[1] >>> 31).isEqualTo(0);
        assertThat(w[2]).isEqualTo(0b11 | (0b111 << 29));
        // value 21 = 0b110: bit0 (0) at word1 bit 31, bits 1-2 (0b11) at word2 bits 0-1
    }

    @Test
    void fourBitPacksEightInputsPerWordLowNibbleFirst() {
        byte[] codes = new byte[8];
        for (int i = 0; i < 8; i++) codes[i] = (byte) (i + 1);
        QuantizedLinear q = new QuantizedLinear(1, 8, 4, -1, true, codes, new float[]{1f}, new int[]{8}, new int[8], 0);
        assertThat(Packing.gptqQweight(q)).containsExactly(0x87654321);
    }

    @Test
    void classicFormatRefusesZeroPointZero() {
        byte[] codes = new byte[32];
        int[] zeros = new int[32 / 32 * 1];
        QuantizedLinear q = new QuantizedLinear(32, 1, 4, -1, false, new byte[32], new float[32], new int[32], new int[1], 0);
        assertThatThrownBy(() -> Packing.gptqQzeros(q, false)).hasMessageContaining("zero point 0");
        assertThat(Packing.gptqQzeros(q, true)).containsOnly(0);
        assertThat(codes).hasSize(32);
        assertThat(zeros).hasSize(1);
    }

    @Test
    void asymmetricGridKeepsZeroPointsAtLeastOneWhenAsked() {
        float[] w = new float[64 * 32];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < w.length; i++) w[i] = (float) Math.abs(r.nextGaussian()); // all ≥ 0: find_params gives zero 0
        QuantizedLinear v1 = Rtn.quantize(w, 64, 32, 4, false, Rtn.Granularity.CHANNEL, -1, true);
        QuantizedLinear raw = Rtn.quantize(w, 64, 32, 4, false, Rtn.Granularity.CHANNEL, -1, false);
        assertThat(raw.zeros()).contains(0);
        assertThat(java.util.Arrays.stream(v1.zeros()).min().getAsInt()).isGreaterThanOrEqualTo(1);
        double e = 0;
        float[] d = v1.dequantize();
        for (int i = 0; i < w.length; i++) e = Math.max(e, Math.abs(d[i] - w[i]));
        assertThat(e).isLessThan(0.3); // the grid still covers [0, max]
    }

    /** AWQ_ORDER [0, 2, 4, 6, 1, 3, 5, 7]: nibble k of a word holds output column AWQ_ORDER[k]. */
    @Test
    void awqInterleavedOrder() {
        int rows = 8, cols = 1;
        byte[] codes = new byte[8];
        for (int o = 0; o < 8; o++) codes[o] = (byte) o; // code = output column index
        QuantizedLinear q = new QuantizedLinear(rows, cols, 4, -1, false, codes, new float[8], new int[8], new int[1], 0);
        // nibbles low→high: columns 0,2,4,6,1,3,5,7
        assertThat(Packing.awqQweight(q)).containsExactly(0x75316420);
        assertThat(Packing.awqUnpack(Packing.awqQweight(q), 1, 8)).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
    }

    @Test
    void awqRoundTrip() {
        int rows = 64, cols = 256;
        QuantizedLinear q = Awq.pseudoQuantize(randomWeights(rows, cols, 9), rows, cols, 4, 128);
        int[] qw = Packing.awqQweight(q);
        int[] codes = Packing.awqUnpack(qw, cols, rows); // [in][out]
        for (int o = 0; o < rows; o++) for (int i = 0; i < cols; i++) assertThat(codes[i * rows + o]).isEqualTo(q.code(o, i));
        assertThat(Packing.awqUnpack(Packing.awqQzeros(q), q.groups(), rows)).isEqualTo(q.zeros());
    }
}
