package dev.featherweight.kernels.capacity;

import dev.featherweight.catalog.capacity.*;
import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.cli.Fw;
import dev.featherweight.kernels.formats.safetensors.SafetensorsWriter;
import dev.featherweight.kernels.core.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The seed's worked example and the acceptance figures, computed (never typed in as results). */
class CapacityTest {
    static final GpuCatalog CATALOG = GpuCatalog.builtIn();
    // Published shapes (config.json of meta-llama/Llama-2-13b-hf and Meta-Llama-3-8B).
    static final ModelShape LLAMA2_13B = new ModelShape("Llama-2-13B", 40, 5120, 40, 40, 128, 13824, 32000, false, 4096);
    static final ModelShape LLAMA3_8B = new ModelShape("Llama-3-8B", 32, 4096, 32, 8, 128, 14336, 128256, false, 8192);

    @Test
    void seedLlama2_13bKvCachePerSequence() {
        // 2 bytes × 2 (K and V) × 40 layers × 5120 × 4096 tokens
        double perToken = LLAMA2_13B.kvBytesPerToken(KvDType.FP16);
        assertThat(perToken).isEqualTo(2.0 * 2 * 40 * 5120);
        long perSequence = (long) (perToken * 4096);
        assertThat(perSequence).isEqualTo(3_355_443_200L);
        assertThat(perSequence / (double) (1L << 30)).isEqualTo(3.125); // the seed's 3.125 is GiB, not GB
    }

    @Test
    void seedFourSequencesBeside26GbOfWeightsOnA40GbGpu() {
        Gpu a100 = CATALOG.get("A100-40GB-PCIe");
        // The seed's setting: the whole 40 GB, nothing reserved, every sequence preallocated at 4096 tokens.
        CapacityReport r = Capacity.compute(LLAMA2_13B, a100, 26_000_000_000L, 4096, KvDType.FP16, 1.0, 0, Precision.FP16, 1);
        assertThat(r.kvBudgetBytes()).isEqualTo(14_000_000_000L);
        assertThat(r.maxSequences()).isEqualTo(4); // 14e9 / 3.355e9 = 4.17
        // And the seed's own units agree: 14 GiB / 3.125 GiB = 4.48 → 4 as well.
        assertThat((long) (14.0 / 3.125)).isEqualTo(r.maxSequences());
        // With vLLM's 0.9 utilization and the default overhead only 2 fit.
        CapacityReport real = Capacity.compute(LLAMA2_13B, a100, 26_000_000_000L, 4096, KvDType.FP16, 0.9,
                Capacity.defaultOverheadBytes(LLAMA2_13B), Precision.FP16, 1);
        assertThat(real.maxSequences()).isEqualTo(2);
    }

    @Test
    void optimalBatchOfFp16WeightsIsPeakOverBandwidth() {
        Gpu a100 = CATALOG.get("A100-40GB-PCIe");
        long fp16Bytes = 2 * LLAMA2_13B.params();
        Roofline r = new Roofline(LLAMA2_13B, a100, fp16Bytes, KvDType.FP16, Precision.FP16, 1);
        double seedFormula = 312e12 / (2 * 1555e9); // the seed: "about 100"
        assertThat(seedFormula).isCloseTo(100.3, within(0.1));
        // Weights streamed per step = 2 bytes × matmul params; FLOPs per token = 2 × matmul params:
        // equal at B = peak / bandwidth, twice the seed's figure (its formula holds for 1-byte weights).
        assertThat(r.optimalBatch()).isCloseTo(312e12 / 1555e9, within(1e-6));
        assertThat(r.optimalBatch()).isCloseTo(2 * seedFormula, within(1e-6));
        Roofline int8 = new Roofline(LLAMA2_13B, a100, LLAMA2_13B.params(), KvDType.FP16, Precision.FP16, 1);
        assertThat(int8.optimalBatch()).isCloseTo(seedFormula, within(1e-6));
        // At B* the two roofline terms meet (KV traffic aside): below it memory-bound, far above compute-bound.
        assertThat(r.memoryBound(1, 1)).isTrue();
        assertThat(r.memoryBound(400, 1)).isFalse();
        // Quantized weights move fewer bytes, so B* drops in proportion.
        Roofline q4 = new Roofline(LLAMA2_13B, a100, WeightsDType.bytes(LLAMA2_13B, "q4_k_m"), KvDType.FP16, Precision.FP16, 1);
        assertThat(q4.optimalBatch() / r.optimalBatch()).isCloseTo(4.85 / 16, within(1e-3));
    }

    @Test
    void llama3_8bKvBytesPerTokenForGqaMqaAndFp8() {
        assertThat(LLAMA3_8B.kvBytesPerToken(KvDType.FP16)).isEqualTo(131_072.0);
        ModelShape mqa = new ModelShape("mqa", 32, 4096, 32, 1, 128, 14336, 128256, false, 8192);
        assertThat(mqa.kvBytesPerToken(KvDType.FP16)).isEqualTo(131_072.0 / 8);
        ModelShape mha = new ModelShape("mha", 32, 4096, 32, 32, 128, 14336, 128256, false, 8192);
        assertThat(mha.kvBytesPerToken(KvDType.FP16)).isEqualTo(131_072.0 * 4);
        assertThat(LLAMA3_8B.kvBytesPerToken(KvDType.FP8)).isEqualTo(131_072.0 / 2);
        assertThat(LLAMA3_8B.kvBytesPerToken(KvDType.INT4)).isEqualTo(131_072.0 / 4);
        assertThat(LLAMA3_8B.kvBytesPerToken(KvDType.FP32)).isEqualTo(131_072.0 * 2);
        // llama.cpp's block-quantized caches: 34 bytes per 32 values for q8_0, 18 for q4_0.
        assertThat(LLAMA3_8B.kvBytesPerToken(KvDType.parse("q8_0"))).isEqualTo(131_072.0 / 2 * 34 / 32);
        assertThat(LLAMA3_8B.kvBytesPerToken(KvDType.parse("Q4_0"))).isEqualTo(131_072.0 / 4 * 18 / 16);
        assertThat(KvDType.parse("f16")).isEqualTo(KvDType.FP16);
        assertThatThrownBy(() -> KvDType.parse("fp4")).isInstanceOf(CapacityException.class).hasMessageContaining("fp4");
        // Published parameter counts: Llama-3-8B 8.03 B, Llama-2-13B 13.0 B.
        assertThat(LLAMA3_8B.params()).isEqualTo(8_030_261_248L);
        assertThat(LLAMA2_13B.params()).isEqualTo(13_015_864_320L);
    }

    @Test
    void everyGoldenGgufReportsItsTensorBytes() throws Exception {
        Path dir = SharedData.shared("golden/gguf");
        JsonMapper json = JsonMapper.builder().build();
        int checked = 0;
        try (var files = Files.list(dir)) {
            for (Path gguf : files.filter(f -> f.toString().endsWith(".gguf")).sorted().toList()) {
                Path inspect = dir.resolve(gguf.getFileName().toString().replace(".gguf", ".inspect.json"));
                if (!Files.exists(inspect)) continue;
                JsonNode listing = json.readTree(inspect.toFile());
                long sumOfTensors = 0;
                for (JsonNode t : listing.get("tensors")) sumOfTensors += t.get("nbytes").asLong();
                assertThat(sumOfTensors).as(gguf.toString()).isEqualTo(listing.get("tensor_bytes").asLong());
                SizedModel m = SizedModel.resolve(gguf.toString(), null);
                assertThat(m.weightsBytes()).as(gguf.toString()).isEqualTo(sumOfTensors);
                assertThat(m.source()).isEqualTo("artifact");
                // The listing counts elements; our shape's parameter count must agree with it.
                assertThat(m.shape().params()).as(gguf.toString()).isEqualTo(listing.get("n_elements").asLong());
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(0);
        SizedModel q4km = SizedModel.resolve(dir.resolve("feather-3m-Q4_K_M.gguf").toString(), null);
        double bpw = q4km.weightsBytes() * 8.0 / q4km.shape().params();
        assertThat(bpw).isGreaterThan(4.5).isLessThan(5.5); // scales and mins included: not 4.0
    }

    /** Sum of (end - start) of every tensor in a safetensors header: what a GPTQ/AWQ/bnb folder stores, independent of our reader. */
    static long safetensorsHeaderBytes(Path folder) throws Exception {
        long total = 0;
        try (var files = Files.list(folder)) {
            for (Path f : files.filter(x -> x.toString().endsWith(".safetensors")).toList()) {
                try (var ch = java.nio.channels.FileChannel.open(f)) {
                    var len = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    ch.read(len, 0);
                    var header = java.nio.ByteBuffer.allocate((int) len.getLong(0));
                    ch.read(header, 8);
                    JsonNode h = JsonMapper.builder().build().readTree(new String(header.array(), StandardCharsets.UTF_8));
                    for (var e : h.properties()) {
                        if (e.getKey().equals("__metadata__")) continue;
                        JsonNode off = e.getValue().get("data_offsets");
                        total += off.get(1).asLong() - off.get(0).asLong();
                    }
                }
            }
        }
        return total;
    }

    @Test
    void safetensorsFoldersReportTheirTensorBytes() throws Exception {
        Path folder = SharedData.demoModel("feather-3m");
        long stored = safetensorsHeaderBytes(folder);
        assertThat(stored).isEqualTo(13_116_416L);
        SizedModel hf = SizedModel.resolve(folder.toString(), null);
        assertThat(hf.weightsBytes()).isEqualTo(stored);
        assertThat(hf.weightsBytes()).isEqualTo(4L * hf.shape().params()); // feather-3m is stored in fp32
        // Asked for a nominal precision instead, the shape decides.
        assertThat(SizedModel.resolve(folder.toString(), "fp16").weightsBytes()).isEqualTo(2L * hf.shape().params());
    }

    /**
     * A GPTQ 4-bit, group-128 folder in AutoGPTQ's layout for the feather-3m shape (sharded in two files):
     * qweight int32 [in/8, out], qzeros int32 [groups, out/8], scales fp16 [groups, out], g_idx int32 [in]
     * per linear; embeddings, norms and lm_head in fp16. Its weight bytes must be every stored byte —
     * scales, zeros and g_idx included — so more than the 4 bits per weight the name suggests.
     */
    @Test
    void gptqLayoutFolderCountsScalesZerosAndIndices(@TempDir Path dir) throws Exception {
        Path config = SharedData.demoModel("feather-3m").resolve("config.json");
        ModelShape shape = SizedModel.resolve(config.toString(), null).shape();
        Files.writeString(dir.resolve("config.json"), Files.readString(config).replaceFirst("\\{",
                "{\"quantization_config\": {\"quant_method\": \"gptq\", \"bits\": 4, \"group_size\": 128, \"desc_act\": false, \"sym\": true},"));
        List<SafetensorsWriter.Spec> specs = new ArrayList<>();
        int h = shape.hidden(), q = shape.qDim(), kv = shape.kvDim(), f = shape.ffn();
        specs.add(new SafetensorsWriter.Spec("model.embed_tokens.weight",
                GgmlType.F16, new long[]{shape.vocab(), h}));
        for (int l = 0; l < shape.layers(); l++) {
            String p = "model.layers." + l + ".";
            int[][] linears = {{h, q}, {h, kv}, {h, kv}, {q, h}, {h, f}, {h, f}, {f, h}};
            String[] names = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
            for (int i = 0; i < names.length; i++) {
                int in = linears[i][0], out = linears[i][1], groups = in / 128;
                specs.add(spec(p + names[i] + ".qweight", GgmlType.I32, in / 8, out));
                specs.add(spec(p + names[i] + ".qzeros", GgmlType.I32, groups, out / 8));
                specs.add(spec(p + names[i] + ".scales", GgmlType.F16, groups, out));
                specs.add(new SafetensorsWriter.Spec(p + names[i] + ".g_idx",
                        GgmlType.I32, new long[]{in}));
            }
            specs.add(new SafetensorsWriter.Spec(p + "input_layernorm.weight", GgmlType.F16, new long[]{h}));
            specs.add(new SafetensorsWriter.Spec(p + "post_attention_layernorm.weight", GgmlType.F16, new long[]{h}));
        }
        specs.add(new SafetensorsWriter.Spec("model.norm.weight", GgmlType.F16, new long[]{h}));
        specs.add(spec("lm_head.weight", GgmlType.F16, shape.vocab(), h));
        long declared = specs.stream().mapToLong(SafetensorsWriter.Spec::bytes).sum();
        try (var w = SafetensorsWriter.create(dir, "model", specs, Map.of("format", "pt"), declared / 2)) {
            for (var sp : specs) w.write(sp.name(), new byte[(int) sp.bytes()]);
            assertThat(w.finish().stream().filter(x -> x.toString().endsWith(".safetensors")).count()).isGreaterThan(1); // sharded, with an index
        }
        SizedModel m = SizedModel.resolve(dir.toString(), null);
        assertThat(m.source()).isEqualTo("artifact");
        assertThat(m.shape()).isEqualTo(shape.withName(m.shape().name()));
        assertThat(m.weightsBytes()).isEqualTo(safetensorsHeaderBytes(dir)).isEqualTo(declared);
        // Per block-matmul weight: 4 bits + an fp16 scale and a 4-bit zero per 128 + a 32-bit g_idx per input row.
        long blockBytes = 0;
        for (var sp : specs) if (sp.name().startsWith("model.layers.") && !sp.name().endsWith("layernorm.weight")) blockBytes += sp.bytes();
        double bpw = blockBytes * 8.0 / (shape.layers() * shape.blockMatmulParams());
        assertThat(bpw).isGreaterThan(4.0 + 16.0 / 128 + 4.0 / 128).isLessThan(4.5);
    }

    private static SafetensorsWriter.Spec spec(String name, GgmlType t, long rows, long cols) {
        return new SafetensorsWriter.Spec(name, t, new long[]{rows, cols});
    }

    @Test
    void publishedConfigJsonGivesTheCatalogShape() {
        ModelShapes shapes = ModelShapes.builtIn();
        for (String name : new String[]{"Llama-2-13B", "Llama-3-8B"}) {
            Path config = SharedData.repoRoot().resolve("kernels/src/test/resources/capacity/" + name + "/config.json");
            SizedModel fromFile = SizedModel.resolve(config.toString(), null);
            ModelShape published = shapes.find(name).shape();
            assertThat(fromFile.shape()).isEqualTo(published);
            assertThat(fromFile.weightsBytes()).isEqualTo(2 * published.params()); // float16 / bfloat16 checkpoints
        }
        assertThat(shapes.find("llama-2-13b").shape()).isEqualTo(new ModelShape("Llama-2-13B", 40, 5120, 40, 40, 128, 13824, 32000, false, 4096));
        // Llama-3-70B: 70.6 B parameters as published.
        assertThat(shapes.find("Llama-3-70B").shape().params()).isEqualTo(70_553_706_496L);
    }

    @Test
    void badInputSaysWhatAndHowMuch() {
        assertThatThrownBy(() -> CATALOG.get("B200")).isInstanceOf(CapacityException.class).hasMessageContaining("B200").hasMessageContaining("A100-40GB-PCIe");
        Gpu a100 = CATALOG.get("A100-40GB-PCIe");
        assertThatThrownBy(() -> Capacity.compute(LLAMA2_13B, a100, 26_000_000_000L, 8192, KvDType.FP16, 0.9, 0, Precision.FP16, 1))
                .isInstanceOf(CapacityException.class).hasMessageContaining("8192").hasMessageContaining("4096");
        assertThatThrownBy(() -> Capacity.compute(LLAMA2_13B, CATALOG.get("T4"), 26_000_000_000L, 4096, KvDType.FP16, 0.9, 1_200_000_000L, Precision.FP16, 1))
                .isInstanceOf(CapacityException.class)
                .hasMessageContaining("weights 26.0 GB + overhead 1.2 GB").hasMessageContaining("14.4 GB usable on T4");
        // fp32 Llama-2-13B on the 40 GB A100: the weights alone exceed the usable memory.
        long fp32 = 4 * LLAMA2_13B.params();
        assertThatThrownBy(() -> Capacity.compute(LLAMA2_13B, a100, fp32, 4096, KvDType.FP16, 0.9, 1_200_000_000L, Precision.FP16, 1))
                .isInstanceOf(CapacityException.class)
                .hasMessage("weights 52.1 GB + overhead 1.2 GB exceed 36.0 GB usable on A100-40GB-PCIe");
        // The same through the CLI: stderr carries the message, stdout nothing, exit code non-zero.
        String[] outErr = new String[2];
        int code = runFw(outErr, "capacity", "--model", "Llama-2-13B", "--weights-dtype", "fp32", "--gpu", "A100-40GB-PCIe", "--overhead", "1200000000");
        assertThat(code).isNotZero();
        assertThat(outErr[0]).isEmpty();
        assertThat(outErr[1]).contains("weights 52.1 GB + overhead 1.2 GB exceed 36.0 GB usable on A100-40GB-PCIe");
        code = runFw(outErr, "capacity", "--model", "Llama-2-13B", "--gpu", "B200");
        assertThat(code).isNotZero();
        assertThat(outErr[1]).contains("unknown GPU 'B200'").contains("H100-80GB-SXM").contains("MI300X");
        code = runFw(outErr, "capacity", "--model", "Llama-2-13B", "--gpu", "A100-80GB-SXM", "--ctx", "8192");
        assertThat(code).isNotZero();
        assertThat(outErr[1]).contains("context 8192 exceeds the model's max positions 4096");
    }

    /** Runs fw capturing stdout and stderr into outErr[0], outErr[1]. */
    static int runFw(String[] outErr, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            return Fw.run(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
            outErr[0] = out.toString(StandardCharsets.UTF_8);
            outErr[1] = err.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void cliJsonCarriesTheContractedFields() throws Exception {
        String[] outErr = new String[2];
        int code = runFw(outErr, "capacity", "--model", "Llama-3-8B", "--gpu", "H100-80GB-SXM", "--ctx", "8192", "--json");
        assertThat(code).isZero();
        JsonNode j = JsonMapper.builder().build().readTree(outErr[0]);
        for (String f : new String[]{"weightsBytes", "kvBytesPerToken", "kvBytesPerSequence", "usableBytes", "maxSequences", "optimalBatch", "decodeTokensPerSecond"}) {
            assertThat(j.has(f)).as(f).isTrue();
        }
        assertThat(j.get("kvBytesPerToken").asDouble()).isEqualTo(131_072.0);
        assertThat(j.get("kvBytesPerSequence").asLong()).isEqualTo(131_072L * 8192);
        assertThat(j.get("usableBytes").asLong()).isEqualTo(72_000_000_000L);
        assertThat(j.get("weightsBytes").asLong()).isEqualTo(2 * LLAMA3_8B.params());

        // The seed's example from its config.json, on every GPU: an array, one entry per catalog GPU, the 40 GB A100 among them.
        Path config = SharedData.repoRoot().resolve("kernels/src/test/resources/capacity/Llama-2-13B/config.json");
        code = runFw(outErr, "capacity", "--model", config.toString(), "--gpu", "all", "--ctx", "4096", "--json");
        assertThat(code).as(outErr[1]).isZero();
        JsonNode all = JsonMapper.builder().build().readTree(outErr[0]);
        assertThat(all.isArray()).isTrue();
        assertThat(all.size()).isEqualTo(CATALOG.all().size());
        long weights = 2 * LLAMA2_13B.params(), overhead = Capacity.defaultOverheadBytes(LLAMA2_13B);
        for (JsonNode r : all) {
            Gpu g = CATALOG.get(r.get("gpu").asString());
            boolean fits = Math.floor(g.memoryBytes() * 0.9) - weights - overhead >= 3_355_443_200L;
            assertThat(r.get("fits").asBoolean()).as(g.name()).isEqualTo(fits);
            if (fits) assertThat(r.get("maxSequences").asLong()).isEqualTo((long) ((Math.floor(g.memoryBytes() * 0.9) - weights - overhead) / 3_355_443_200L));
            else assertThat(r.get("error").asString()).contains("usable on " + g.name()); // T4, L4, A10, RTX-4090: reported, not fatal
        }
        code = runFw(outErr, "capacity", "--model", config.toString(), "--gpu", "A100-40GB-PCIe", "--gpu", "H100-80GB-SXM", "--ctx", "4096");
        assertThat(code).isZero();
        assertThat(outErr[0]).contains("A100-40GB-PCIe").contains("H100-80GB-SXM").contains("3355.4");
    }
}
