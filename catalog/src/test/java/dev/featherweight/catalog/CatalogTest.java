package dev.featherweight.catalog;

import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.methods.AwqMethod;
import dev.featherweight.catalog.methods.GgufMethod;
import dev.featherweight.catalog.methods.GptqMethod;
import dev.featherweight.catalog.methods.RtnMethod;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CatalogTest {
    static final Catalog CATALOG = Catalog.builtIn();
    /** feather-3m's config.json: hidden 256, ffn 768, 8 heads of 32, 2 KV heads, vocab 512, 512 positions. */
    static final ModelShape FEATHER = new ModelShape("feather-3m", 4, 256, 8, 2, 32, 768, 512, false, 512);
    static final ModelShape LLAMA2_7B = new ModelShape("Llama-2-7B", 32, 4096, 32, 32, 128, 11008, 32000, false, 4096);

    static Map<String, Object> recipe(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    @Test
    void theEngineEightMethodsAreListed() {
        assertThat(CATALOG.methodNames()).containsExactly("gguf", "gptq", "awq", "rtn", "nf4", "fp4", "llm-int8", "compressed-tensors");
    }

    @Test
    void everyDefaultIsValidAndEveryMethodRunsWithNoParameterAtAll() {
        for (MethodDescriptor m : CATALOG.methods()) {
            for (Parameter p : m.parameters()) {
                List<Problem> problems = new ArrayList<>();
                p.check(p.defaultValue(), "recipe", problems);
                assertThat(problems).as(m.name() + "." + p.name()).isEmpty();
            }
            assertThat(CATALOG.validate(recipe("method", m.name()), "recipe", FEATHER)).as(m.name()).isEmpty();
            ResolvedRecipe r = CATALOG.resolve(recipe("method", m.name()), FEATHER);
            assertThat(r.method()).isEqualTo(m.name());
            assertThat(CATALOG.estimate(r, FEATHER).peakDeviceBytes()).as(m.name()).isPositive();
        }
    }

    @Test
    void gptqWithOnlyBitsRunsWithGptqModelDefaults() {
        // GPTQModel's QuantizeConfig: group_size 128, damp_percent 0.01, desc_act False, sym True; 128 x 2048 calibration tokens
        ResolvedRecipe r = CATALOG.resolve(recipe("method", "gptq", "bits", 4), LLAMA2_7B);
        assertThat(r).isEqualTo(new GptqMethod.Resolved(4, 128, 0.01, false, true, 128, 2048));
        assertThat(r.label()).isEqualTo("gptq 4-bit g128");
    }

    @Test
    void defaultCalibrationLengthIsCappedToTheModelContextButAnExplicitLongerOneIsRefused() {
        assertThat(CATALOG.resolve(recipe("method", "gptq"), FEATHER)).isEqualTo(new GptqMethod.Resolved(4, 128, 0.01, false, true, 128, 512));
        assertThat(CATALOG.resolve(recipe("method", "awq"), FEATHER)).isEqualTo(new AwqMethod.Resolved(4, 128, 128, 512));
        assertThat(CATALOG.resolve(recipe("method", "gptq"), null)).isEqualTo(new GptqMethod.Resolved(4, 128, 0.01, false, true, 128, 2048));
        assertThat(CATALOG.validate(recipe("method", "gptq", "calibrationSeqLen", 1024), "recipes[0]", FEATHER))
                .containsExactly(new Problem("recipes[0].calibrationSeqLen", "1024 exceeds the model's max_position_embeddings 512"));
        assertThat(CATALOG.validate(recipe("method", "gptq", "calibrationSeqLen", 1024), "recipes[0]", null)).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            gguf IQ5_XS (no such file type)            | method=gguf,fileType=IQ5_XS        | r.fileType          | IQ5_XS is not allowed; one of [F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, IQ4_NL, IQ4_XS, IQ3_M, IQ3_S, IQ3_XS, IQ3_XXS, TQ1_0, TQ2_0, IQ2_XXS, IQ2_XS, IQ2_S, IQ2_M, IQ1_S, IQ1_M]
            gguf IQ3_XXS without an imatrix            | method=gguf,fileType=IQ3_XXS       | r.imatrix           | IQ3_XXS needs an importance matrix (llama-quantize refuses it without one): set imatrix to true
            gguf IQ3_XXS with imatrix false            | method=gguf,fileType=IQ3_XXS,imatrix=false | r.imatrix   | IQ3_XXS needs an importance matrix (llama-quantize refuses it without one): set imatrix to true
            gguf IQ2_XXS without an imatrix            | method=gguf,fileType=IQ2_XXS       | r.imatrix           | IQ2_XXS needs an importance matrix (llama-quantize refuses it without one): set imatrix to true
            gptq damp 0.0                              | method=gptq,damp=0.0               | r.damp              | must be > 0 and <= 1, got 0.0
            gptq damp above 1                          | method=gptq,damp=1.5               | r.damp              | must be > 0 and <= 1, got 1.5
            gptq bits 5                                | method=gptq,bits=5                 | r.bits              | 5 is not allowed; one of [2, 3, 4, 8]
            gptq group 100                             | method=gptq,groupSize=100          | r.groupSize         | 100 is not allowed; one of [-1, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
            gptq no samples                            | method=gptq,calibrationSamples=0   | r.calibrationSamples | must be >= 1 and <= 1048576, got 0
            gptq seq len 4                             | method=gptq,calibrationSeqLen=4    | r.calibrationSeqLen | must be >= 8 and <= 131072, got 4
            awq bits as text                           | method=awq,bits='4'                | r.bits              | must be an integer, got 4
            rtn symmetric as number                    | method=rtn,symmetric=1             | r.symmetric         | must be true or false, got 1
            rtn group 512 wider than feather's rows    | method=rtn,groupSize=512           | r.groupSize         | 512 does not divide the input features of every linear layer of feather-3m (256, 256, 768); -1 or a divisor of each
            nf4 block 48                               | method=nf4,blockSize=48            | r.blockSize         | 48 is not allowed; one of [64]
            fp4 block 128 the kernels do not write     | method=fp4,blockSize=128           | r.blockSize         | 128 is not allowed; one of [64]
            llm-int8 threshold the engine cannot write | method=llm-int8,threshold=5.0      | r.threshold         | 5.0 is not allowed; one of [6.0]
            unknown parameter                          | method=gptq,bitz=4                 | r.bitz              | not a parameter of gptq; one of [bits, groupSize, damp, descAct, symmetric, calibrationSamples, calibrationSeqLen]
            unknown method                             | method=magic                       | r.method            | 'magic' is not a method of this engine; one of [gguf, gptq, awq, rtn, nf4, fp4, llm-int8, compressed-tensors]
            no method                                  | bits=4                             | r.method            | required; one of [gguf, gptq, awq, rtn, nf4, fp4, llm-int8, compressed-tensors]
            """)
    void everyCombinationTheEngineCannotRunIsRefusedNamingItsField(String what, String params, String field, String message) {
        Map<String, Object> r = new HashMap<>();
        for (String kv : params.split(",")) {
            String[] p = kv.split("=");
            r.put(p[0], value(p[1]));
        }
        assertThat(CATALOG.validate(r, "r", FEATHER)).as(what).containsExactly(new Problem(field, message));
        assertThatThrownBy(() -> CATALOG.resolve(r, FEATHER)).isInstanceOf(Catalog.InvalidRecipeException.class);
    }

    /** 'x' is a string, true/false booleans, numbers with a dot doubles, other numbers integers, anything else a string. */
    static Object value(String s) {
        if (s.startsWith("'")) return s.substring(1, s.length() - 1);
        if (s.equals("true") || s.equals("false")) return Boolean.valueOf(s);
        try {
            return s.contains(".") ? (Object) Double.valueOf(s) : (Object) Integer.valueOf(s);
        } catch (NumberFormatException e) {
            return s;
        }
    }

    @Test
    void everyProblemOfARecipeIsListedAtOnce() {
        List<Problem> problems = CATALOG.validate(recipe("method", "gptq", "bits", 5, "damp", 0.0, "groupSize", 100, "calibrationSamples", 0), "recipes[1]", null);
        assertThat(problems).extracting(Problem::field)
                .containsExactly("recipes[1].bits", "recipes[1].groupSize", "recipes[1].damp", "recipes[1].calibrationSamples");
    }

    @Test
    void aValidRecipeResolvesToWhatItGaveAndDefaultsForTheRest() {
        assertThat(CATALOG.resolve(recipe("method", "rtn", "bits", 8, "groupSize", -1), FEATHER)).isEqualTo(new RtnMethod.Resolved(8, -1, true));
        assertThat(CATALOG.resolve(recipe("method", "gguf"), FEATHER)).isEqualTo(new GgufMethod.Resolved("Q4_K_M"));
        assertThat(CATALOG.resolve(recipe("method", "gguf", "fileType", "Q8_0"), FEATHER).nominalBits()).isEqualTo(8);
        assertThat(CATALOG.resolve(recipe("method", "gguf", "fileType", "IQ3_XS"), FEATHER).nominalBits()).isEqualTo(3);
        assertThat(CATALOG.resolve(recipe("method", "gguf", "fileType", "TQ2_0"), FEATHER).nominalBits()).isEqualTo(2);
        assertThat(CATALOG.resolve(recipe("method", "gguf", "fileType", "BF16"), FEATHER).nominalBits()).isEqualTo(16);
        assertThat(CATALOG.resolve(recipe("method", "gguf", "fileType", "IQ3_XXS", "imatrix", true), FEATHER))
                .isEqualTo(new GgufMethod.Resolved("IQ3_XXS", true));
        assertThat(CATALOG.validate(recipe("method", "gguf", "fileType", "IQ4_XS"), "r", FEATHER)).isEmpty();
    }

    @Test
    void aResolvedRecipeListsEveryParameterAsRunAndResolvesToItself() {
        ResolvedRecipe r = CATALOG.resolve(recipe("method", "awq", "bits", 4), FEATHER);
        assertThat(r.parameters()).containsExactly(Map.entry("method", "awq"), Map.entry("bits", 4), Map.entry("groupSize", 128),
                Map.entry("calibrationSamples", 128), Map.entry("calibrationSeqLen", 512));
        assertThat(CATALOG.resolve(r.parameters(), FEATHER)).isEqualTo(r);
    }

    @Test
    void gptqWorkingSetOfALlama2_7bBlockIsTheMeasuredHeapPeak() {
        // Measured on a Llama-2-7B-shaped block with 16 x 256 tokens: 985 MiB live at most (GC log).
        long peak = CATALOG.estimate(new GptqMethod.Resolved(4, 128, 0.01, false, true, 16, 256), LLAMA2_7B).peakDeviceBytes();
        assertThat(peak).isBetween(985L << 20, (long) (1.05 * (985L << 20)));
        // the worst module is down_proj: its 11008 x 11008 fp32 Hessian, its weights as fp32 + fp16, the six earlier modules' codes
        Map<String, Long> parts = CATALOG.estimate(new GptqMethod.Resolved(4, 128, 0.01, false, true, 16, 256), LLAMA2_7B).peakParts();
        assertThat(parts).containsEntry("hessians fp32", 11008L * 11008 * 4).containsEntry("module weights fp32+fp16", 4096L * 11008 * 6)
                .containsEntry("codes of finished modules", 4L * 4096 * 4096 + 2L * 11008 * 4096)
                .containsEntry("calibration hidden states fp32", 2L * 16 * 256 * 4096 * 4);
    }

    @Test
    void roundToNearestStreamsTheBlockAndItsQuantizedCopy() {
        long block = 256 * 256 + 2 * 256 * 64 + 256 * 256 + 3 * 256 * 768; // q, k, v, o, gate, up, down of feather-3m
        Estimate e = CATALOG.estimate(new RtnMethod.Resolved(4, 32, true), FEATHER);
        assertThat(e.peakParts()).containsEntry("block weights fp16", 2 * block).containsEntry("quantized block", block / 2).hasSize(2);
        // memory-bound on an A100: each block's fp16 weights in and out, plus embeddings and head copied once
        var a100 = GpuCatalog.builtIn().get("A100-40GB-PCIe");
        assertThat(e.seconds(a100)).isCloseTo(4 * (2.0 * 2 * block / 1555e9) + 2.0 * 512 * 256 * 2 / 1555e9, org.assertj.core.api.Assertions.within(1e-15));
        assertThat(e.fits(a100)).isTrue();
    }

    @Test
    void gptqOutputCountsPackedCodesZerosScalesAndGroupIndex() {
        // one 256 x 256 module at 4 bits, group 128: codes 32768 B, zeros 2 groups x 256 x 4 bits = 256 B, scales 2 x 256 x 2 = 1024 B, g_idx 256 x 4 = 1024 B
        long q = 256 * 256 / 2 + 256 + 1024 + 1024;
        long k = 64 * 256 / 2 + 2 * 64 / 2 + 2 * 64 * 2 + 256 * 4;
        long gate = 768 * 256 / 2 + 2 * 768 / 2 + 2 * 768 * 2 + 256 * 4;
        long down = 256 * 768 / 2 + 6 * 256 / 2 + 6 * 256 * 2 + 768 * 4;
        long kept = (2L * 512 * 256 + 4 * 2 * 256 + 256) * 2; // embeddings + head, two norms per block, final norm, at 2 bytes
        long out = CATALOG.estimate(new GptqMethod.Resolved(4, 128, 0.01, false, true, 1, 8), FEATHER).outputBytes();
        assertThat(out).isEqualTo(4 * (2 * q + 2 * k + 2 * gate + down) + kept);
    }

    @Test
    void theDocumentListsMethodsParametersTypesGpusAndKvTypesAsContracted() {
        JsonNode doc = JsonMapper.shared().valueToTree(CATALOG.document(GpuCatalog.builtIn()));
        assertThat(doc.path("engineVersion").asString()).isNotBlank().doesNotContain("${");
        JsonNode gptq = doc.path("methods").get(1);
        assertThat(gptq.path("name").asString()).isEqualTo("gptq");
        assertThat(gptq.path("calibrated").asBoolean()).isTrue();
        JsonNode damp = gptq.path("parameters").get(2);
        assertThat(damp.path("name").asString()).isEqualTo("damp");
        assertThat(damp.path("type").asString()).isEqualTo("number");
        assertThat(damp.path("default").asDouble()).isEqualTo(0.01);
        assertThat(damp.path("minimum").asDouble()).isEqualTo(0.0);
        assertThat(damp.path("exclusiveMinimum").asBoolean()).isTrue();
        assertThat(damp.path("maximum").asDouble()).isEqualTo(1.0);
        assertThat(gptq.path("parameters").get(0).path("allowed").toString()).isEqualTo("[2,3,4,8]");
        assertThat(gptq.path("parameters").get(0).has("exclusiveMinimum")).isFalse();
        assertThat(doc.path("ggufFileTypes").findValuesAsString("name")).contains("Q4_K_M", "Q6_K", "IQ4_XS", "IQ4_NL", "IQ3_M", "TQ1_0", "TQ2_0");
        assertThat(doc.path("ggmlTypes").get(0).path("blockSize").asInt()).isEqualTo(1);
        assertThat(doc.path("gpus").findValuesAsString("name")).contains("L4", "A100-40GB-PCIe");
        assertThat(doc.path("gpus").get(0).has("memoryBytes")).isTrue();
        assertThat(doc.path("kvDtypes").toString()).contains("\"fp16\"", "\"int4\"");
    }
}
