package dev.featherweight.kernels.formats.quantized;

import java.util.Map;
import dev.featherweight.kernels.pipeline.QuantizeJob;
import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.safetensors.SafetensorsFile;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.infer.Perplexity;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.quant.Recipe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Each folder's tensors (names, dtypes, shapes) and config fields, checked against what the target loader reads.
 * feather-3m: hidden 256, intermediate 768, 8 heads × 32, 2 kv heads (k/v out 64), 4 layers, F32 weights.
 */
class CheckpointLayoutTest {
    static final Parallel POOL = new Parallel(2);
    static final JsonMapper JSON = JsonMapper.builder().build();
    @TempDir
    static Path tmp;
    static Path gptq, gptqAct, awq, nf4dq, fp4, int8;

    @BeforeAll
    static void quantizeOnce() {
        Path model = SharedData.demoModel("feather-3m");
        QuantizeJob.Calibration cal = new QuantizeJob.Calibration(SharedData.shared("eval/train.tinystories.tokens.u32"), 4, 64, 7);
        gptq = run(model, Recipe.of("rtn", Map.of("bits", 4, "groupSize", 128)).withRules(
                List.of(new Recipe.Rule(".*\\.3\\.mlp\\.down_proj", true, null, null), Recipe.Rule.parseOverride(".*\\.0\\.self_attn\\..*=bits:8,group:64"))), null, "gptq");
        gptqAct = run(model, Recipe.of("gptq", Map.of("bits", 3, "groupSize", 64, "symmetric", false, "descAct", true, "trueSequential", false)), cal, "gptq-act");
        awq = run(model, Recipe.of("awq", Map.of("bits", 4, "groupSize", 128)), cal, "awq");
        nf4dq = run(model, Recipe.of("nf4", Map.of("doubleQuant", true)), null, "nf4dq");
        fp4 = run(model, Recipe.of("fp4", Map.of()), null, "fp4");
        int8 = run(model, Recipe.of("llm-int8", Map.of()), null, "int8");
    }

    static Path run(Path model, Recipe r, QuantizeJob.Calibration cal, String name) {
        Path out = tmp.resolve(name);
        QuantizeJob.run(model, r, cal, out, null, null, POOL);
        return out;
    }

    @AfterAll
    static void close() {
        POOL.close();
    }

    static JsonNode qc(Path dir) throws Exception {
        return JSON.readTree(dir.resolve("config.json").toFile()).get("quantization_config");
    }

    static void shape(SafetensorsFile f, String name, GgmlType type, long... shape) {
        Tensor t = f.tensor(name);
        assertThat(t.type()).as(name).isEqualTo(type);
        assertThat(t.shape()).as(name).containsExactly(shape);
    }

    /**
     * vLLM model_executor/layers/quantization/gptq.py, GPTQLinearMethod.create_weights: qweight int32
     * [in / (32/bits), out] (packed_dim 0), g_idx int32 [in], qzeros int32 [in / group_size, out / (32/bits)],
     * scales fp16 [in / group_size, out]; GPTQConfig.from_config reads bits, group_size, desc_act, lm_head,
     * dynamic. transformers GPTQConfig additionally sym, checkpoint_format (GPTQModel: "gptq" stores zero − 1),
     * meta. quantize_config.json carries the same fields (GPTQModel QuantizeConfig.from_pretrained).
     */
    @Test
    void gptqFolder() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(gptq.resolve("model.safetensors"))) {
            String p = "model.layers.1.self_attn.q_proj";
            shape(f, p + ".qweight", GgmlType.I32, 256 * 4 / 32, 256);
            shape(f, p + ".qzeros", GgmlType.I32, 2, 256 * 4 / 32);
            shape(f, p + ".scales", GgmlType.F16, 2, 256);
            shape(f, p + ".g_idx", GgmlType.I32, 256);
            shape(f, "model.layers.1.self_attn.k_proj.qzeros", GgmlType.I32, 2, 64 * 4 / 32);
            shape(f, "model.layers.1.mlp.down_proj.qweight", GgmlType.I32, 768 * 4 / 32, 256);
            shape(f, "model.layers.1.mlp.down_proj.scales", GgmlType.F16, 6, 256);
            // the override: layer 0 attention at 8 bits, group 64
            shape(f, "model.layers.0.self_attn.q_proj.qweight", GgmlType.I32, 256 * 8 / 32, 256);
            shape(f, "model.layers.0.self_attn.q_proj.scales", GgmlType.F16, 4, 256);
            // the skip: kept in the source dtype under its plain name
            shape(f, "model.layers.3.mlp.down_proj.weight", GgmlType.F32, 256, 768);
            assertThat(f.has("model.layers.3.mlp.down_proj.qweight")).isFalse();
            assertThat(f.has("model.layers.1.self_attn.q_proj.weight")).isFalse();
            shape(f, "model.embed_tokens.weight", GgmlType.F32, 512, 256);
            shape(f, "lm_head.weight", GgmlType.F32, 512, 256);
            shape(f, "model.layers.2.input_layernorm.weight", GgmlType.F32, 256);
        }
        JsonNode q = qc(gptq);
        assertThat(q.get("quant_method").asString()).isEqualTo("gptq");
        assertThat(q.get("bits").asInt()).isEqualTo(4);
        assertThat(q.get("group_size").asInt()).isEqualTo(128);
        assertThat(q.get("desc_act").asBoolean()).isFalse();
        assertThat(q.get("sym").asBoolean()).isTrue();
        assertThat(q.get("lm_head").asBoolean()).isFalse();
        assertThat(q.get("checkpoint_format").asString()).isEqualTo("gptq");
        assertThat(q.get("dynamic").get("-:.*\\.3\\.mlp\\.down_proj").isObject()).isTrue();
        assertThat(q.get("dynamic").get("+:.*\\.0\\.self_attn\\..*").get("bits").asInt()).isEqualTo(8);
        assertThat(q.get("dynamic").get("+:.*\\.0\\.self_attn\\..*").get("group_size").asInt()).isEqualTo(64);
        assertThat(q.has("static_groups") && q.has("true_sequential") && q.has("damp_percent") && q.has("meta")).isTrue();
        JsonNode qcfg = JSON.readTree(gptq.resolve("quantize_config.json").toFile());
        assertThat(qcfg.get("bits").asInt()).isEqualTo(4);
        assertThat(qcfg.get("checkpoint_format").asString()).isEqualTo("gptq");
        for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) assertThat(gptq.resolve(f)).exists();
    }

    /** act-order: desc_act true, g_idx not c / group_size; asym 3-bit: qzeros [groups, out·3/32]. */
    @Test
    void gptqActOrderFolder() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(gptqAct.resolve("model.safetensors"))) {
            String p = "model.layers.0.mlp.gate_proj";
            shape(f, p + ".qweight", GgmlType.I32, 256 * 3 / 32, 768);
            shape(f, p + ".qzeros", GgmlType.I32, 4, 768 * 3 / 32);
            Tensor g = f.tensor(p + ".g_idx");
            boolean trivial = true;
            int[] count = new int[4];
            for (int i = 0; i < 256; i++) {
                int gi = g.data().get(ValueLayout.JAVA_INT_UNALIGNED, 4L * i);
                count[gi]++;
                if (gi != i / 64) trivial = false;
            }
            assertThat(trivial).isFalse();
            assertThat(count).containsOnly(64);
        }
        JsonNode q = qc(gptqAct);
        assertThat(q.get("desc_act").asBoolean()).isTrue();
        assertThat(q.get("sym").asBoolean()).isFalse();
        assertThat(q.get("bits").asInt()).isEqualTo(3);
    }

    /**
     * vLLM model_executor/layers/quantization/awq.py, AWQLinearMethod.create_weights: qweight int32
     * [in, out / 8] (packed_dim 1), qzeros int32 [in / group_size, out / 8], scales fp16 [in / group_size, out];
     * AWQConfig.from_config reads w_bit|bits, q_group_size|group_size, zero_point, modules_to_not_convert.
     * transformers AwqConfig: quant_method awq, version gemm.
     */
    @Test
    void awqFolder() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(awq.resolve("model.safetensors"))) {
            String p = "model.layers.2.mlp.down_proj";
            shape(f, p + ".qweight", GgmlType.I32, 768, 256 / 8);
            shape(f, p + ".qzeros", GgmlType.I32, 6, 256 / 8);
            shape(f, p + ".scales", GgmlType.F16, 6, 256);
            shape(f, "model.layers.2.self_attn.k_proj.qweight", GgmlType.I32, 256, 64 / 8);
            assertThat(f.has(p + ".g_idx")).isFalse();
            // the scales were folded into the norms: they differ from the source's
            try (SafetensorsFile src = SafetensorsFile.open(SharedData.demoModel("feather-3m").resolve("model.safetensors"))) {
                assertThat(f.tensor("model.layers.2.input_layernorm.weight").data().mismatch(src.tensor("model.layers.2.input_layernorm.weight").data())).isNotEqualTo(-1L);
            }
        }
        JsonNode q = qc(awq);
        assertThat(q.get("quant_method").asString()).isEqualTo("awq");
        assertThat(q.get("version").asString()).isEqualTo("gemm");
        assertThat(q.get("bits").asInt()).isEqualTo(4);
        assertThat(q.get("group_size").asInt()).isEqualTo(128);
        assertThat(q.get("zero_point").asBoolean()).isTrue();
        assertThat(q.has("modules_to_not_convert")).isTrue();
    }

    /**
     * transformers quantizers/quantizer_bnb_4bit.py (create_quantized_param → bnb Params4bit.from_prequantized) and
     * bitsandbytes functional.py QuantState.from_dict: "weight" uint8 [(n+1)/2, 1], "weight.absmax" (uint8 when
     * nested), "weight.quant_map" fp32 [16], "weight.nested_absmax" fp32, "weight.nested_quant_map" fp32 [256],
     * and exactly one "weight.quant_state.bitsandbytes__nf4|fp4" uint8 JSON with quant_type, blocksize, dtype, shape
     * (+ nested_blocksize, nested_dtype, nested_offset). config: quant_method bitsandbytes, load_in_4bit,
     * bnb_4bit_quant_type, bnb_4bit_use_double_quant, bnb_4bit_compute_dtype.
     */
    @Test
    void bnb4Folders() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(nf4dq.resolve("model.safetensors"))) {
            String w = "model.layers.0.mlp.up_proj.weight";
            shape(f, w, GgmlType.U8, 768 * 256 / 2, 1);
            shape(f, w + ".absmax", GgmlType.U8, 768 * 256 / 64);
            shape(f, w + ".quant_map", GgmlType.F32, 16);
            shape(f, w + ".nested_absmax", GgmlType.F32, (768 * 256 / 64 + 255) / 256);
            shape(f, w + ".nested_quant_map", GgmlType.F32, 256);
            Tensor st = f.tensor(w + ".quant_state.bitsandbytes__nf4");
            assertThat(st.type()).isEqualTo(GgmlType.U8);
            String json = new String(st.data().toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            assertThat(json).startsWith("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float32\", \"shape\": [768, 256], \"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": ");
            JsonNode s = JSON.readTree(json);
            assertThat(s.get("nested_offset").asDouble()).isPositive();
            long states = f.names().stream().filter(n -> n.startsWith(w + ".") && n.contains("quant_state")).count();
            assertThat(states).isEqualTo(1);
        }
        JsonNode q = qc(nf4dq);
        assertThat(q.get("quant_method").asString()).isEqualTo("bitsandbytes");
        assertThat(q.get("load_in_4bit").asBoolean()).isTrue();
        assertThat(q.get("load_in_8bit").asBoolean()).isFalse();
        assertThat(q.get("bnb_4bit_quant_type").asString()).isEqualTo("nf4");
        assertThat(q.get("bnb_4bit_use_double_quant").asBoolean()).isTrue();
        assertThat(q.get("bnb_4bit_compute_dtype").asString()).isEqualTo("float32");
        try (SafetensorsFile f = SafetensorsFile.open(fp4.resolve("model.safetensors"))) {
            String w = "model.layers.3.self_attn.v_proj.weight";
            shape(f, w, GgmlType.U8, 64 * 256 / 2, 1);
            shape(f, w + ".absmax", GgmlType.F32, 64 * 256 / 64);
            assertThat(f.has(w + ".nested_absmax")).isFalse();
            String json = new String(f.tensor(w + ".quant_state.bitsandbytes__fp4").data().toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            assertThat(json).isEqualTo("{\"quant_type\": \"fp4\", \"blocksize\": 64, \"dtype\": \"float32\", \"shape\": [64, 256]}");
        }
        assertThat(qc(fp4).get("bnb_4bit_quant_type").asString()).isEqualTo("fp4");
    }

    /** transformers quantizers/quantizer_bnb_8bit.py create_quantized_param: "weight" int8 [out, in], "SCB" fp32 [out]; weight_format popped. */
    @Test
    void bnb8Folder() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(int8.resolve("model.safetensors"))) {
            shape(f, "model.layers.1.mlp.down_proj.weight", GgmlType.I8, 256, 768);
            shape(f, "model.layers.1.mlp.down_proj.SCB", GgmlType.F32, 256);
            shape(f, "model.layers.1.mlp.down_proj.weight_format", GgmlType.U8);
        }
        JsonNode q = qc(int8);
        assertThat(q.get("load_in_8bit").asBoolean()).isTrue();
        assertThat(q.get("llm_int8_threshold").asDouble()).isEqualTo(6.0);
        assertThat(q.get("quant_method").asString()).isEqualTo("bitsandbytes");
    }

    /** stories260K's 172-wide MLP cannot be packed at 4 bits (172·4/32 is not whole): refused by name, or kept with --skip. */
    @Test
    void unpackableWidthIsRefusedOrSkipped() throws Exception {
        Path model = SharedData.demoModel("stories260K");
        Recipe r = Recipe.of("rtn", Map.of("bits", 4, "groupSize", 32));
        assertThatThrownBy(() -> QuantizeJob.run(model, r, null, tmp.resolve("refused"), null, null, POOL))
                .isInstanceOf(FormatException.class).hasMessageContaining("mlp.gate_proj").hasMessageContaining("--skip");
        assertThat(tmp.resolve("refused")).doesNotExist();
        Path out = tmp.resolve("skipped");
        QuantizeJob.run(model, r.withRules(List.of(new Recipe.Rule(".*\\.mlp\\.", true, null, null))), null, out, null, null, POOL);
        try (LoadedModel lm = ModelLoader.open(out, null, POOL)) {
            assertThat(lm.model().block(0).q().format()).isEqualTo("GPTQ-4bit");
            assertThat(lm.model().block(0).down().format()).isEqualTo("F32");
            int[] tokens = lm.encode(Files.readString(SharedData.shared("eval/dev.tinystories.txt")).substring(0, 4000));
            double ppl = Perplexity.run(lm.model(), tokens, Perplexity.Options.llamacpp(128, 4, 1)).perplexity();
            assertThat(ppl).isBetween(1.0, 100.0);
        }
    }
}
