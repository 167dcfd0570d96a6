package dev.featherweight.kernels.quant;

import dev.featherweight.kernels.formats.quantized.CheckpointLayout;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Typed parameters from a recipe's name → value map: defaults for what is absent, JSON and command-line value types, what the algorithms refuse. */
class QuantizationParamsTest {

    @Test
    void absentParametersTakeTheMethodsDefaults() {
        assertThat(QuantizationParams.of("gptq", Map.of())).isEqualTo(new GptqParams(4, 128, true, false, false, 0.01, true, false));
        assertThat(QuantizationParams.of("rtn", Map.of())).isEqualTo(new RtnParams(4, 128, true, false));
        assertThat(QuantizationParams.of("awq", Map.of())).isEqualTo(new AwqParams(4, 128, true, 16));
        assertThat(QuantizationParams.of("nf4", Map.of())).isEqualTo(new Bnb4Params(Nf4.Type.NF4, false));
        assertThat(QuantizationParams.of("FP4", Map.of())).isEqualTo(new Bnb4Params(Nf4.Type.FP4, false));
        assertThat(QuantizationParams.of("LLM_INT8", Map.of())).isEqualTo(new LlmInt8Params(6.0));
    }

    @Test
    void recipeFieldsByNameAsJsonOrCommandLineValues() {
        Map<String, Object> json = Map.of("method", "gptq", "bits", 3, "groupSize", 64, "descAct", true, "damp", 0.05, "symmetric", false,
                "calibrationSamples", 32);
        assertThat(QuantizationParams.of("gptq", json)).isEqualTo(new GptqParams(3, 64, false, true, false, 0.05, true, false));
        Map<String, Object> text = Map.of("bits", "8", "groupSize", "-1", "symmetric", "false");
        assertThat(QuantizationParams.of("rtn", text)).isEqualTo(new RtnParams(8, -1, false, false));
        assertThat(QuantizationParams.of("nf4", Map.of("doubleQuant", true, "blockSize", 64))).isEqualTo(new Bnb4Params(Nf4.Type.NF4, true));
        assertThatThrownBy(() -> QuantizationParams.of("gptq", Map.of("bits", 4.5))).hasMessageContaining("bits must be an integer");
        assertThatThrownBy(() -> QuantizationParams.of("gptq", Map.of("descAct", "yes"))).hasMessageContaining("descAct must be true or false");
    }

    @Test
    void refusesWhatTheAlgorithmsCannotRun() {
        assertThatThrownBy(() -> QuantizationParams.of("q4", Map.of())).hasMessageContaining("unknown method 'q4'").hasMessageContaining("llm-int8");
        assertThatThrownBy(() -> QuantizationParams.of("gptq", Map.of("damp", 0.0))).hasMessageContaining("damp_percent");
        assertThatThrownBy(() -> QuantizationParams.of("rtn", Map.of("bits", 5))).hasMessageContaining("bits must be 2, 3, 4 or 8");
        assertThatThrownBy(() -> QuantizationParams.of("awq", Map.of("symmetric", true))).hasMessageContaining("asymmetric");
        assertThatThrownBy(() -> QuantizationParams.of("nf4", Map.of("blockSize", 128))).hasMessageContaining("blocks of 64");
        assertThatThrownBy(() -> Recipe.of("nf4", Map.of()).withRules(List.of(Recipe.Rule.parseOverride(".*=bits:8"))))
                .hasMessageContaining("takes --skip only");
    }

    @Test
    void awqAtOtherWidthsThan4GoesToTheGptqLayoutAsV2() {
        AwqParams a3 = (AwqParams) QuantizationParams.of("awq", Map.of("bits", 3));
        assertThat(a3.gptqV2()).isTrue();
        assertThat(CheckpointLayout.of(a3)).isEqualTo(CheckpointLayout.GPTQ);
        assertThat(CheckpointLayout.of(QuantizationParams.of("awq", Map.of()))).isEqualTo(CheckpointLayout.AWQ);
        assertThat(CheckpointLayout.of(QuantizationParams.of("rtn", Map.of()))).isEqualTo(CheckpointLayout.GPTQ);
        assertThat(CheckpointLayout.of(QuantizationParams.of("fp4", Map.of()))).isEqualTo(CheckpointLayout.BNB4);
        assertThat(CheckpointLayout.of(QuantizationParams.of("llm-int8", Map.of()))).isEqualTo(CheckpointLayout.BNB8);
    }

    @Test
    void theResumeFingerprintTextChangesWithEveryParameter() {
        assertThat(Recipe.of("gptq", Map.of()).canonical()).isNotEqualTo(Recipe.of("gptq", Map.of("damp", 0.02)).canonical());
        assertThat(Recipe.of("awq", Map.of()).canonical()).isNotEqualTo(Recipe.of("awq", Map.of("searchSamples", 4)).canonical());
        assertThat(Recipe.of("gptq", Map.of()).canonical()).isEqualTo(Recipe.of("gptq", Map.of("bits", 4)).canonical());
    }
}
