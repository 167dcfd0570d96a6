package dev.featherweight.kernels.quant;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** float8_e4m3fn as torch defines it (finfo: max 448, smallest normal 2⁻⁶, smallest subnormal 2⁻⁹, no infinities). */
class Fp8E4M3Test {

    @Test
    void knownCodes() {
        assertThat(Fp8E4M3.decode((byte) 0x38)).isEqualTo(1f);
        assertThat(Fp8E4M3.decode((byte) 0x7E)).isEqualTo(448f);
        assertThat(Fp8E4M3.decode((byte) 0xFE)).isEqualTo(-448f);
        assertThat(Fp8E4M3.decode((byte) 0x08)).isEqualTo(0x1p-6f);
        assertThat(Fp8E4M3.decode((byte) 0x01)).isEqualTo(0x1p-9f);
        assertThat(Fp8E4M3.decode((byte) 0x07)).isEqualTo(7 * 0x1p-9f);
        assertThat(Fp8E4M3.decode((byte) 0x7F)).isNaN();
        assertThat(Fp8E4M3.decode((byte) 0x3F)).isEqualTo(1.875f);
    }

    @Test
    void everyValueEncodesToItsOwnCode() {
        for (int b = 0; b < 256; b++) {
            float v = Fp8E4M3.decode((byte) b);
            if (Float.isNaN(v)) continue;
            assertThat(Fp8E4M3.encode(v) & 0xFF).as("0x%02x = %s", b, v).isEqualTo(b);
        }
    }

    /** Brute force over the 253 finite values: the nearest one, ties to the even code (mantissa LSB 0). */
    @Test
    void roundsToNearestTiesToEvenAndSaturates() {
        Random rnd = new Random(3);
        for (int i = 0; i < 200_000; i++) {
            float x = (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(22) - 12));
            if (i % 97 == 0) { // exact midpoints between neighbours
                int b = rnd.nextInt(0x7E);
                x = (Fp8E4M3.decode((byte) b) + Fp8E4M3.decode((byte) (b + 1))) / 2;
            }
            int best = -1;
            double bestErr = Double.MAX_VALUE;
            for (int b = 0; b < 256; b++) {
                float v = Fp8E4M3.decode((byte) b);
                if (Float.isNaN(v) || (v == 0 && b == 0x80)) continue;
                double err = Math.abs((double) v - Math.min(Math.max(x, -448), 448));
                if (err < bestErr || err == bestErr && (b & 1) == 0 && (best & 1) == 1) {
                    best = b;
                    bestErr = err;
                }
            }
            float got = Fp8E4M3.decode(Fp8E4M3.encode(x));
            assertThat(got).as("x = %s", x).isEqualTo(Fp8E4M3.decode((byte) best));
        }
        assertThat(Fp8E4M3.round(1.0625f)).as("tie between 1 and 1.125 → even mantissa 0").isEqualTo(1f);
        assertThat(Fp8E4M3.round(1.1875f)).as("tie between 1.125 and 1.25 → even mantissa 2").isEqualTo(1.25f);
        assertThat(Fp8E4M3.round(1e6f)).isEqualTo(448f);
        assertThat(Fp8E4M3.round(0x1p-10f)).as("half the smallest subnormal → 0").isEqualTo(0f);
    }

    @Test
    void perChannelWeightsUseAbsmaxOver448() {
        float[] w = {1, -2, 0.5f, 4, 0, 0, 0, 0.001f};
        Fp8E4M3.Weight q = Fp8E4M3.quantize(w, 2, 4, true);
        assertThat(q.scales()).containsExactly(4f / 448, 0.001f / 448);
        assertThat(q.dequantize(0, 3)).isEqualTo(4f);
        assertThat(q.dequantize(1, 3)).isCloseTo(0.001f, org.assertj.core.data.Offset.offset(1e-9f));
        Fp8E4M3.Weight t = Fp8E4M3.quantize(w, 2, 4, false);
        assertThat(t.scales()).containsExactly(4f / 448);
        assertThat(t.dequantize(1, 3)).as("tiny row under a per-tensor scale").isNotEqualTo(q.dequantize(1, 3));
    }
}
