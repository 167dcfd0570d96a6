package dev.featherweight.kernels.formats.quantized;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.formats.safetensors.SafetensorsFile;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.infer.ActivationQuantizedMatrix;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.infer.Perplexity;
import dev.featherweight.kernels.pipeline.QuantizeJob;
import dev.featherweight.kernels.pipeline.modifier.Modifiers;
import dev.featherweight.kernels.quant.ActivationQuantization;
import dev.featherweight.kernels.quant.Fp8E4M3;
import dev.featherweight.kernels.quant.QuantizedLinear;
import dev.featherweight.kernels.quant.Recipe;
import dev.featherweight.kernels.quant.Rtn;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * compressed-tensors folders of feather-3m in every scheme, written once for the class through {@link QuantizeJob}
 * (as {@code fw quantize --format compressed-tensors} does): the layout vLLM's compressed-tensors loader and the
 * compressed-tensors library read (expectations written here from their source — vLLM's {@code create_weights} and
 * scheme dispatch, compressed-tensors' {@code pack_to_int32} — not from our writer), the reload into the engine bit for
 * bit, and perplexity with the activations rounded as the serving kernels round them, on feather-3m and on a copy with
 * injected activation outliers (where SmoothQuant earns its keep).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CompressedTensorsTest {
    private static final String[] MODULES = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj",
            "mlp.up_proj", "mlp.down_proj"};
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Perplexity on the first chunks of dev.tinystories (ctx 256): enough to rank schemes, cheap enough for every CI run. */
    private static final int CHUNKS = 4;

    final Parallel pool = new Parallel(2);
    final Map<String, Path> folders = new LinkedHashMap<>();
    final Map<String, Double> ppl = new LinkedHashMap<>();
    Path model, outlier;
    int[] tokens;

    @BeforeAll
    void write(@TempDir Path tmp) throws Exception {
        model = SharedData.demoModel("feather-3m");
        outlier = tmp.resolve("feather-3m-outliers");
        OutlierModel.write(model, outlier, new int[]{3, 77, 140, 201}, 128f);
        QuantizeJob.Calibration cal = new QuantizeJob.Calibration(SharedData.shared("eval/train.tinystories.tokens.u32"), 8, 256, 42);
        Map<String, Map<String, Object>> recipes = new LinkedHashMap<>();
        recipes.put("W4A16", Map.of("scheme", "W4A16"));
        recipes.put("W4A16-asym", Map.of("scheme", "W4A16", "symmetric", false));
        recipes.put("W4A16-gptq", Map.of("scheme", "W4A16", "algorithm", "gptq"));
        recipes.put("W8A16", Map.of("scheme", "W8A16"));
        recipes.put("W8A8", Map.of("scheme", "W8A8"));
        recipes.put("W8A8-sq", Map.of("scheme", "W8A8", "smoothing", 0.5));
        recipes.put("FP8_DYNAMIC", Map.of("scheme", "FP8_DYNAMIC"));
        recipes.put("FP8", Map.of("scheme", "FP8"));
        ppl.put("fp32", perplexity(model));
        for (var e : recipes.entrySet()) folders.put(e.getKey(), quantize(model, e.getValue(), cal, tmp.resolve(e.getKey())));
        ppl.put("outliers fp32", perplexity(outlier));
        folders.put("outliers W8A8", quantize(outlier, recipes.get("W8A8"), cal, tmp.resolve("outliers-W8A8")));
        folders.put("outliers W8A8-sq", quantize(outlier, recipes.get("W8A8-sq"), cal, tmp.resolve("outliers-W8A8-sq")));
        for (var e : folders.entrySet()) if (!e.getKey().equals("W4A16-asym")) ppl.put(e.getKey(), perplexity(e.getValue()));
        ppl.forEach((k, v) -> System.out.printf(Locale.ROOT, "%-18s %.4f%n", k, v));
    }

    private Path quantize(Path src, Map<String, Object> values, QuantizeJob.Calibration cal, Path out) {
        Recipe r = Recipe.of("compressed-tensors", values);
        QuantizeJob.run(src, r, Modifiers.of(r).calibrated() ? cal : null, out, null, null, pool);
        return out;
    }

    private double perplexity(Path folder) throws Exception {
        try (LoadedModel lm = ModelLoader.open(folder, null, pool)) {
            if (tokens == null) tokens = lm.encode(Files.readString(SharedData.shared("eval/dev.tinystories.txt")));
            var c = lm.model().config();
            return Perplexity.run(lm.model(), tokens, new Perplexity.Options(Perplexity.Mode.LLAMACPP, 256, CHUNKS, 0, c.addBos(), c.bosId())).perplexity();
        }
    }

    @AfterAll
    void close() {
        pool.close();
    }

    private static JsonNode quantizationConfig(Path folder) {
        return JsonMapper.builder().build().readTree(folder.resolve("config.json").toFile()).path("quantization_config");
    }

    // ---- config.json: what vLLM's CompressedTensorsConfig and transformers' compressed-tensors quantizer read ----------------

    /**
     * vLLM compressed_tensors.py {@code _get_scheme_from_parts}, reduced to the schemes written here: WNA16 when the
     * weights are static per channel/group and there are no input activations; W8A8Int8 when 8-bit int weights
     * (static, symmetric, channel/tensor) meet 8-bit int dynamic per-token inputs; W8A8Fp8 when FP8 weights (static,
     * symmetric, channel/tensor) meet FP8 inputs that are dynamic, or static symmetric per tensor.
     */
    private static String vllmScheme(JsonNode w, JsonNode in) {
        String ws = w.path("strategy").asString();
        if (in.isNull() && (ws.equals("channel") || ws.equals("group")) && !w.path("dynamic").asBoolean()) return "WNA16";
        boolean w8 = w.path("num_bits").asInt() == 8 && in.path("num_bits").asInt() == 8;
        boolean staticSymW = !w.path("dynamic").asBoolean() && w.path("symmetric").asBoolean() && (ws.equals("channel") || ws.equals("tensor"));
        if (w8 && staticSymW && w.path("type").asString().equals("int") && in.path("type").asString().equals("int")
                && in.path("strategy").asString().equals("token") && in.path("dynamic").asBoolean() && in.path("symmetric").asBoolean()) return "W8A8Int8";
        if (w8 && staticSymW && w.path("type").asString().equals("float") && in.path("type").asString().equals("float")
                && (in.path("dynamic").asBoolean() || in.path("symmetric").asBoolean() && in.path("strategy").asString().equals("tensor"))) return "W8A8Fp8";
        return "unsupported";
    }

    @Test
    void configIsWhatVllmDispatchesOnForEveryScheme() {
        Map<String, String[]> expected = Map.of(   // scheme → vLLM scheme class, format, weight strategy
                "W4A16", new String[]{"WNA16", "pack-quantized", "group"}, "W4A16-asym", new String[]{"WNA16", "pack-quantized", "group"},
                "W8A16", new String[]{"WNA16", "pack-quantized", "channel"}, "W8A8", new String[]{"W8A8Int8", "int-quantized", "channel"},
                "FP8_DYNAMIC", new String[]{"W8A8Fp8", "float-quantized", "channel"}, "FP8", new String[]{"W8A8Fp8", "float-quantized", "tensor"});
        for (var e : expected.entrySet()) {
            JsonNode q = quantizationConfig(folders.get(e.getKey()));
            assertThat(q.path("quant_method").asString()).isEqualTo("compressed-tensors");
            assertThat(q.path("quantization_status").asString()).isEqualTo("compressed");
            assertThat(q.path("format").asString()).as(e.getKey()).isEqualTo(e.getValue()[1]);
            assertThat(q.path("ignore").toString()).isEqualTo("[\"lm_head\"]");
            assertThat(q.path("version").asString()).matches("\\d+\\.\\d+\\.\\d+");
            assertThat(q.path("config_groups").size()).isEqualTo(1);
            JsonNode g = q.path("config_groups").path("group_0");
            assertThat(g.path("targets").toString()).isEqualTo("[\"Linear\"]");
            JsonNode w = g.path("weights");
            assertThat(w.path("strategy").asString()).as(e.getKey()).isEqualTo(e.getValue()[2]);
            // QuantizationArgs' validator: group strategy needs group_size > 0, other strategies none
            assertThat(w.path("group_size").isNull()).isEqualTo(!e.getValue()[2].equals("group"));
            assertThat(vllmScheme(w, g.path("input_activations"))).as(e.getKey()).isEqualTo(e.getValue()[0]);
        }
        assertThat(quantizationConfig(folders.get("W4A16")).path("config_groups").path("group_0").path("weights").path("group_size").asInt()).isEqualTo(128);
        assertThat(quantizationConfig(folders.get("W4A16-asym")).path("config_groups").path("group_0").path("weights").path("symmetric").asBoolean()).isFalse();
        assertThat(quantizationConfig(folders.get("FP8")).path("config_groups").path("group_0").path("input_activations").path("dynamic").asBoolean()).isFalse();
        assertThat(folders.get("W8A8-sq").resolve("recipe.yaml")).content().contains("SmoothQuantModifier", "smoothing_strength: 0.5", "re:.*input_layernorm");
    }

    // ---- tensors: vLLM create_weights (names, dtypes, shapes) -----------------------------------------------------------

    @Test
    void tensorsHaveTheNamesDtypesAndShapesVllmCreates() {
        try (SafetensorsFile f = SafetensorsFile.open(folders.get("W4A16-asym").resolve("model.safetensors"));
             SafetensorsModel src = SafetensorsModel.open(model)) {
            for (int l = 0; l < 4; l++) {
                for (String m : MODULES) {
                    String p = "model.layers." + l + "." + m;
                    long out = src.tensor(p + ".weight").shape()[0], in = src.tensor(p + ".weight").shape()[1];
                    // CompressedTensorsWNA16.create_weights: pack_factor 32/4 = 8, scales_and_zp_size = in / group_size
                    assertThat(f.tensor(p + ".weight_packed").type()).isEqualTo(GgmlType.I32);
                    assertThat(f.tensor(p + ".weight_packed").shape()).containsExactly(out, in / 8);
                    assertThat(f.tensor(p + ".weight_scale").shape()).containsExactly(out, in / 128);
                    assertThat(f.tensor(p + ".weight_scale").type()).isIn(GgmlType.F16, GgmlType.BF16, GgmlType.F32);
                    assertThat(f.tensor(p + ".weight_shape").type()).isEqualTo(GgmlType.I64);
                    assertThat(f.tensor(p + ".weight_shape").shape()).containsExactly(2);
                    assertThat(f.tensor(p + ".weight_zero_point").type()).isEqualTo(GgmlType.I32);
                    assertThat(f.tensor(p + ".weight_zero_point").shape()).containsExactly(out / 8, in / 128);
                    assertThat(f.has(p + ".weight")).isFalse();
                }
            }
            assertThat(f.tensor("lm_head.weight").type()).as("lm_head is ignored, kept as stored").isEqualTo(src.tensor("lm_head.weight").type());
        }
        try (SafetensorsFile sym = SafetensorsFile.open(folders.get("W8A16").resolve("model.safetensors"))) {
            // 8-bit: pack factor 4, per channel: one scale column; symmetric: no zero point
            assertThat(sym.tensor("model.layers.0.mlp.down_proj.weight_packed").shape()).containsExactly(256, 768 / 4);
            assertThat(sym.tensor("model.layers.0.mlp.down_proj.weight_scale").shape()).containsExactly(256, 1);
            assertThat(sym.has("model.layers.0.mlp.down_proj.weight_zero_point")).isFalse();
        }
        try (SafetensorsFile w8a8 = SafetensorsFile.open(folders.get("W8A8").resolve("model.safetensors"));
             SafetensorsFile fp8d = SafetensorsFile.open(folders.get("FP8_DYNAMIC").resolve("model.safetensors"));
             SafetensorsFile fp8 = SafetensorsFile.open(folders.get("FP8").resolve("model.safetensors"))) {
            String p = "model.layers.2.mlp.gate_proj";
            // CompressedTensorsW8A8Int8: int8 weight [out, in], ChannelQuantScaleParameter fp32 [out, 1]; no input_scale when dynamic
            assertThat(w8a8.tensor(p + ".weight").type()).isEqualTo(GgmlType.I8);
            assertThat(w8a8.tensor(p + ".weight").shape()).containsExactly(768, 256);
            assertThat(w8a8.tensor(p + ".weight_scale").type()).isEqualTo(GgmlType.F32);
            assertThat(w8a8.tensor(p + ".weight_scale").shape()).containsExactly(768, 1);
            assertThat(w8a8.has(p + ".input_scale")).isFalse();
            // CompressedTensorsW8A8Fp8: float8_e4m3fn weight; channel scale [out, 1] or per-tensor scale and input_scale of one value each
            assertThat(fp8d.tensor(p + ".weight").type()).isEqualTo(GgmlType.F8_E4M3);
            assertThat(fp8d.tensor(p + ".weight_scale").shape()).containsExactly(768, 1);
            assertThat(fp8d.has(p + ".input_scale")).isFalse();
            assertThat(fp8.tensor(p + ".weight").type()).isEqualTo(GgmlType.F8_E4M3);
            assertThat(fp8.tensor(p + ".weight_scale").elements()).isEqualTo(1);
            assertThat(fp8.tensor(p + ".input_scale").type()).isEqualTo(GgmlType.F32);
            assertThat(fp8.tensor(p + ".input_scale").elements()).isEqualTo(1);
        }
    }

    // ---- values: compressed-tensors' unpack_from_int32 + dequantize, against the algorithm on the source weights ------------

    /** unpack_from_int32 (packed_dim 1 or 0) written out from its description: value i of a word at bits b·i, minus 2^(b−1). */
    private static int[][] unpackSigned(Tensor packed, int rows, int cols, int bits, boolean alongRows) {
        int pf = 32 / bits, mask = (1 << bits) - 1, offset = 1 << (bits - 1);
        long wordCols = packed.shape()[1];
        int[][] v = new int[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                long word = alongRows ? (r / pf) * wordCols + c : r * wordCols + c / pf;
                int shift = bits * (alongRows ? r % pf : c % pf);
                v[r][c] = ((packed.data().get(I32, 4 * word) >>> shift) & mask) - offset;
            }
        }
        return v;
    }

    private static float[] sourceWeights(SafetensorsModel src, String name) {
        return src.tensor(name).data().toArray(F32);
    }

    @Test
    void packedWeightsUnpackToTheRtnCodesAndDequantizeBitForBit() throws Exception {
        for (String name : List.of("W4A16", "W4A16-asym", "W8A16")) {
            boolean sym = !name.endsWith("asym");
            int bits = name.startsWith("W4") ? 4 : 8, group = name.startsWith("W4") ? 128 : -1;
            try (SafetensorsFile f = SafetensorsFile.open(folders.get(name).resolve("model.safetensors"));
                 SafetensorsModel src = SafetensorsModel.open(model);
                 LoadedModel lm = ModelLoader.open(folders.get(name), null, pool)) {
                for (int l = 0; l < 4; l += 3) {
                    for (String m : MODULES) {
                        String p = "model.layers." + l + "." + m;
                        Tensor w = src.tensor(p + ".weight");
                        int rows = (int) w.shape()[0], cols = (int) w.shape()[1];
                        QuantizedLinear ref = Rtn.quantize(sourceWeights(src, p + ".weight"), rows, cols, bits, sym,
                                group < 0 ? Rtn.Granularity.CHANNEL : Rtn.Granularity.GROUP, group, false);
                        int groups = group < 0 ? 1 : cols / group;
                        int[][] q = unpackSigned(f.tensor(p + ".weight_packed"), rows, cols, bits, false);
                        int[][] zp = sym ? new int[rows][groups] : unpackSigned(f.tensor(p + ".weight_zero_point"), rows, groups, bits, true);
                        float[] scale = floats(f.tensor(p + ".weight_scale"));
                        assertThat(f.tensor(p + ".weight_shape").data().toArray(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN)))
                                .containsExactly(rows, cols);
                        WeightMatrix loaded = lm.model().block(l).matrix(forwardName(m));
                        float[] row = new float[cols];
                        String first = null;
                        int bad = 0;
                        for (int r = 0; r < rows; r++) {
                            loaded.decodeRow(r, row, 0);
                            for (int c = 0; c < cols; c++) {
                                int g = c / (group < 0 ? cols : group);
                                // compressed-tensors dequantize: (x_q − zero_point) · scale
                                float deq = (q[r][c] - zp[r][g]) * scale[r * groups + g];
                                float want = ref.dequantize(r, c);
                                if (q[r][c] + (1 << (bits - 1)) != ref.code(r, c) || Float.floatToIntBits(deq) != Float.floatToIntBits(want)
                                        || Float.floatToIntBits(row[c]) != Float.floatToIntBits(deq)) {
                                    if (bad++ == 0) first = String.format(Locale.ROOT, "[%d,%d] code %d vs %d, unpacked %s, reloaded %s, RTN %s", r, c,
                                            q[r][c] + (1 << (bits - 1)), ref.code(r, c), deq, row[c], want);
                                }
                            }
                        }
                        assertThat(bad).as("%s %s: first mismatch %s", name, p, first).isZero();
                    }
                }
            }
        }
    }

    @Test
    void int8AndFp8WeightsReloadBitForBitWithTheirActivationRounding() throws Exception {
        try (SafetensorsModel src = SafetensorsModel.open(model)) {
            for (String name : List.of("W8A8", "FP8_DYNAMIC", "FP8")) {
                try (SafetensorsFile f = SafetensorsFile.open(folders.get(name).resolve("model.safetensors"));
                     LoadedModel lm = ModelLoader.open(folders.get(name), null, pool)) {
                    for (int l = 0; l < 4; l++) {
                        for (String m : MODULES) {
                            String p = "model.layers." + l + "." + m;
                            Tensor w = src.tensor(p + ".weight");
                            int rows = (int) w.shape()[0], cols = (int) w.shape()[1];
                            float[] srcW = sourceWeights(src, p + ".weight");
                            float[] expected = name.equals("W8A8")
                                    ? Rtn.quantize(srcW, rows, cols, 8, true, Rtn.Granularity.CHANNEL, -1, false).dequantize()
                                    : Fp8E4M3.quantize(srcW, rows, cols, name.equals("FP8_DYNAMIC")).dequantize();
                            float[] scale = floats(f.tensor(p + ".weight_scale"));
                            Tensor stored = f.tensor(p + ".weight");
                            WeightMatrix loaded = lm.model().block(l).matrix(forwardName(m));
                            assertThat(loaded).isInstanceOf(ActivationQuantizedMatrix.class);
                            ActivationQuantization a = ((ActivationQuantizedMatrix) loaded).activations();
                            switch (name) {
                                case "W8A8" -> assertThat(a).isInstanceOf(ActivationQuantization.Int8PerToken.class);
                                case "FP8_DYNAMIC" -> assertThat(a).isInstanceOf(ActivationQuantization.Fp8PerToken.class);
                                default -> assertThat(((ActivationQuantization.Fp8Static) a).scale()).isEqualTo(floats(f.tensor(p + ".input_scale"))[0]);
                            }
                            float[] row = new float[cols];
                            String first = null;
                            int bad = 0;
                            for (int r = 0; r < rows; r++) {
                                loaded.decodeRow(r, row, 0);
                                float s = scale[scale.length == 1 ? 0 : r];
                                for (int c = 0; c < cols; c++) {
                                    byte b = stored.data().get(ValueLayout.JAVA_BYTE, (long) r * cols + c);
                                    float deq = name.equals("W8A8") ? b * s : Fp8E4M3.decode(b) * s;   // int8 · scale / torch's fp8 → float · scale
                                    float want = expected[r * cols + c];
                                    if (Float.floatToIntBits(deq) != Float.floatToIntBits(want) || Float.floatToIntBits(row[c]) != Float.floatToIntBits(deq)) {
                                        if (bad++ == 0) first = String.format(Locale.ROOT, "[%d,%d] stored %s, reloaded %s, quantizer %s", r, c, deq, row[c], want);
                                    }
                                }
                            }
                            assertThat(bad).as("%s %s: first mismatch %s", name, p, first).isZero();
                        }
                    }
                }
            }
        }
    }

    @Test
    void smoothQuantFoldsItsScalesIntoTheNormsAndKeepsTheFunction() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(folders.get("outliers W8A8-sq").resolve("model.safetensors"));
             SafetensorsModel src = SafetensorsModel.open(outlier)) {
            for (int l = 0; l < 4; l++) {
                String pre = "model.layers." + l + ".";
                float[] norm = src.tensor(pre + "input_layernorm.weight").data().toArray(F32);
                float[] smoothed = floats(f.tensor(pre + "input_layernorm.weight"));
                float[] w = sourceWeights(src, pre + "self_attn.q_proj.weight");
                Tensor q = f.tensor(pre + "self_attn.q_proj.weight");
                float[] scale = floats(f.tensor(pre + "self_attn.q_proj.weight_scale"));
                int cols = norm.length, rows = w.length / cols;
                double err = 0, ref = 0, smoothedMax = 0, sourceMax = 0;
                for (int c = 0; c < cols; c++) {
                    smoothedMax = Math.max(smoothedMax, Math.abs(smoothed[c]));
                    sourceMax = Math.max(sourceMax, Math.abs(norm[c]));
                }
                // the outlier channels' norm weights shrink: the activations that reach the int8 rounding are smoothed
                assertThat(smoothedMax / sourceMax).as("layer %d", l).isLessThan(0.5);
                // norm'_j · W'_rj = norm_j · W_rj up to int8 weight rounding
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        double a = (double) norm[c] * w[r * cols + c];
                        double b = (double) smoothed[c] * q.data().get(ValueLayout.JAVA_BYTE, (long) r * cols + c) * scale[r];
                        err += (a - b) * (a - b);
                        ref += a * a;
                    }
                }
                assertThat(Math.sqrt(err / ref)).as("layer %d relative error of norm·W", l).isLessThan(0.02);
            }
        }
    }

    // ---- perplexity ---------------------------------------------------------------------------------------------------

    @Test
    void everySchemeIsCloseToFp32AndGptqBeatsRoundToNearest() {
        double fp32 = ppl.get("fp32");
        assertThat(ppl.get("W8A16") / fp32 - 1).as("8-bit weights alone").isBetween(-0.002, 0.002);
        for (String s : List.of("W8A8", "FP8_DYNAMIC", "FP8", "W8A8-sq")) assertThat(ppl.get(s) / fp32 - 1).as(s).isBetween(-0.01, 0.02);
        for (String s : List.of("W4A16", "W4A16-gptq")) assertThat(ppl.get(s) / fp32 - 1).as(s).isBetween(-0.01, 0.05);
        assertThat(ppl.get("W4A16-gptq")).isLessThan(ppl.get("W4A16"));
        // rounding the activations costs something beyond the same int8 weights
        assertThat(ppl.get("W8A8")).isNotEqualTo(ppl.get("W8A16"));
    }

    @Test
    void withActivationOutliersSmoothQuantRecoversWhatPerTokenInt8Loses() {
        // the outlier copy computes the same function bit for bit
        assertThat(ppl.get("outliers fp32")).isEqualTo(ppl.get("fp32"));
        double lost = ppl.get("outliers W8A8") - ppl.get("fp32"), smoothedLoss = ppl.get("outliers W8A8-sq") - ppl.get("fp32");
        assertThat(lost).as("per-token int8 with 128× outlier channels").isGreaterThan(3 * (ppl.get("W8A8") - ppl.get("fp32")));
        assertThat(smoothedLoss).as("the same with SmoothQuant α 0.5").isLessThan(lost / 2);
    }

    @Test
    void activationRoundingPutsEveryValueOnItsGrid() {
        float[] x = new float[3 * 64];
        java.util.Random rnd = new java.util.Random(7);
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian() * (i % 64 == 5 ? 40 : 1);
        float[] out = new float[x.length];
        new ActivationQuantization.Int8PerToken().apply(x, 3, 64, out);
        for (int t = 0; t < 3; t++) {
            float amax = 0;
            for (int c = 0; c < 64; c++) amax = Math.max(amax, Math.abs(x[t * 64 + c]));
            float s = amax / 127;
            for (int c = 0; c < 64; c++) {
                float v = out[t * 64 + c] / s;
                assertThat(Math.abs(v - Math.rint(v))).isLessThan(1e-3f);
                assertThat(Math.abs(out[t * 64 + c] - x[t * 64 + c])).isLessThanOrEqualTo(s / 2 * 1.0001f);
            }
        }
        new ActivationQuantization.Fp8PerToken().apply(x, 3, 64, out);
        for (int t = 0; t < 3; t++) {
            float amax = 0;
            for (int c = 0; c < 64; c++) amax = Math.max(amax, Math.abs(x[t * 64 + c]));
            float s = amax / 448;
            for (int c = 0; c < 64; c++) {
                float v = out[t * 64 + c] / s;
                assertThat(Fp8E4M3.round(v)).as("token %d column %d", t, c).isCloseTo(v, org.assertj.core.data.Offset.offset(Math.abs(v) * 1e-5f));
            }
        }
    }

    private static String forwardName(String hf) {
        return switch (hf) {
            case "self_attn.q_proj" -> "attn_q";
            case "self_attn.k_proj" -> "attn_k";
            case "self_attn.v_proj" -> "attn_v";
            case "self_attn.o_proj" -> "attn_output";
            case "mlp.gate_proj" -> "ffn_gate";
            case "mlp.up_proj" -> "ffn_up";
            default -> "ffn_down";
        };
    }

    private static float[] floats(Tensor t) {
        float[] f = new float[(int) t.elements()];
        for (int i = 0; i < f.length; i++) {
            f[i] = switch (t.type()) {
                case F32 -> t.data().get(F32, 4L * i);
                case F16 -> Float.float16ToFloat(t.data().get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i));
                default -> throw new IllegalArgumentException(t.type().toString());
            };
        }
        return f;
    }
}
