package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodec;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodecs;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The llama.cpp activation roundings against ggufq's reference codecs of the same block types. */
class NumericsTest {
    @Test
    void q8kRoundingEqualsTheQ8KCodecRoundTrip() {
        assertRoundTrip("Q4_K", GgmlType.Q8_K, 256 * 4);
    }

    @Test
    void q8_0RoundingEqualsTheQ8_0CodecRoundTripAwayFromTies() {
        assertRoundTrip("Q4_0", GgmlType.Q8_0, 32 * 8);
    }

    @Test
    void f16AndBf16RoundToNearestEven() {
        float x = 1.0f + 3.0f / 2048; // halfway between two fp16 values above 1: rounds to even mantissa
        float[] out = new float[1];
        Numerics.roundForWeights("F16", new float[]{x}, 1, 1, out);
        assertThat(out[0]).isEqualTo(1.0f + 4.0f / 2048);
        Numerics.roundForWeights("BF16", new float[]{1.0f + 1.0f / 256}, 1, 1, out); // tie between 1 and 1+2^-7
        assertThat(out[0]).isEqualTo(1.0f);
        float[] same = {0.3f};
        assertThat(Numerics.roundForWeights("F32", same, 1, 1, out)).isSameAs(same);
    }

    @Test
    void modesNameTheirEmulatedVectorWidth() {
        assertThat(Numerics.parse("llamacpp-kvf16")).isEqualTo(Numerics.LLAMACPP_KV_F16);
        assertThat(Numerics.LLAMACPP_KV_F16.simdLanes()).isEqualTo(16);
        assertThat(Numerics.parse("llamacpp-kvf16-avx512")).isEqualTo(Numerics.LLAMACPP_KV_F16);
        assertThat(Numerics.parse("llamacpp-kvf16-avx2")).isEqualTo(Numerics.LLAMACPP_KV_F16_AVX2);
        Numerics kvF32Avx2 = Numerics.parse("llamacpp-avx2");
        assertThat(kvF32Avx2.kvF16()).isFalse();
        assertThat(kvF32Avx2.simdLanes()).isEqualTo(8);
        for (String name : new String[]{"fp32", "llamacpp", "llamacpp-kvf16", "llamacpp-avx2", "llamacpp-kvf16-avx2"}) {
            assertThat(Numerics.parse(Numerics.parse(name).label())).isEqualTo(Numerics.parse(name));
        }
        assertThat(Numerics.parse("fp32").simdLanes()).isZero();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Numerics.parse("fp32-avx2")).isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Numerics(true, true, 4)).isInstanceOf(IllegalArgumentException.class);
    }

    private static void assertRoundTrip(String weightFormat, GgmlType activationType, int n) {
        Random r = new Random(3);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * 0.7);
        float[] ours = new float[n];
        Numerics.roundForWeights(weightFormat, x, 1, n, ours);
        GgufBlockCodec codec = GgufBlockCodecs.of(activationType);
        float[] ref = new float[n];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(codec.rowBytes(n));
            codec.quantizeRow(x, 0, n, seg, 0, null);
            codec.dequantizeRow(seg, 0, ref, 0, n);
        }
        assertThat(ours).containsExactly(ref);
    }
}
