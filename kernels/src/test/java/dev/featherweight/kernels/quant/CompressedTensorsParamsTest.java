package dev.featherweight.kernels.quant;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Recipe fields → the scheme, the algorithm's own parameters at the scheme's bits, SmoothQuant; what cannot be written is refused. */
class CompressedTensorsParamsTest {

    static CompressedTensorsParams of(Object... kv) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return (CompressedTensorsParams) QuantizationParams.of("compressed-tensors", m);
    }

    @Test
    void presetsAndAlgorithms() {
        CompressedTensorsParams w4 = of();
        assertThat(w4.scheme()).isEqualTo(CompressedTensorsScheme.W4A16);
        assertThat(w4.grid()).isEqualTo(new RtnParams(4, 128, true, true));
        assertThat(of("scheme", "W8A16").grid()).isEqualTo(new RtnParams(8, -1, true, true));
        assertThat(of("scheme", "w4a16", "algorithm", "gptq", "damp", 0.05, "groupSize", 64).grid())
                .isEqualTo(new GptqParams(4, 64, true, false, false, 0.05, true, true));
        assertThat(of("algorithm", "awq").grid()).isEqualTo(new AwqParams(4, 128, true, 16));
        assertThat(of("algorithm", "awq").symmetric()).isFalse();
        assertThat(of("scheme", "INT8").scheme()).as("compressed-tensors' alias").isEqualTo(CompressedTensorsScheme.W8A8);
        CompressedTensorsParams sq = of("scheme", "W8A8", "algorithm", "gptq", "smoothing", 0.8);
        assertThat(sq.grid()).isEqualTo(new GptqParams(8, -1, true, false, false, 0.01, true, true));
        assertThat(sq.smoothing()).isEqualTo(0.8);
        assertThat(of("scheme", "FP8_DYNAMIC").grid()).isNull();
        assertThat(of("scheme", "FP8").algorithm()).isEqualTo("fp8");
        // the catalogue's resolved recipe carries calibration fields and a null smoothing: both are ignored here
        assertThat(of("scheme", "W8A8", "smoothing", null, "calibrationSamples", 128).smoothing()).isNull();
    }

    @Test
    void refusals() {
        assertThatThrownBy(() -> of("scheme", "W8A8", "algorithm", "awq")).hasMessageContaining("rtn or gptq");
        assertThatThrownBy(() -> of("scheme", "FP8", "algorithm", "gptq")).hasMessageContaining("FP8");
        assertThatThrownBy(() -> of("scheme", "W4A16", "smoothing", 0.5)).hasMessageContaining("W8A8 only");
        assertThatThrownBy(() -> of("scheme", "W8A8", "smoothing", 1.5)).hasMessageContaining("(0, 1)");
        assertThatThrownBy(() -> of("scheme", "W4A16", "bits", 8)).hasMessageContaining("4-bit");
        assertThatThrownBy(() -> of("algorithm", "gptq", "descAct", true)).hasMessageContaining("act-order");
        assertThatThrownBy(() -> of("scheme", "W2A16")).hasMessageContaining("W4A16, W8A16, W8A8, FP8_DYNAMIC, FP8");
    }
}
