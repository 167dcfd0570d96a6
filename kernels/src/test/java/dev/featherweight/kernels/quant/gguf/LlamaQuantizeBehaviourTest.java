package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.formats.gguf.ImportanceMatrix;
import dev.featherweight.kernels.pipeline.LlamaQuantize;
import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.cli.Fw;
import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufModelPlan;
import dev.featherweight.kernels.formats.gguf.GoldenAccess;
import dev.featherweight.kernels.formats.gguf.HfToGguf;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.core.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LlamaQuantizeBehaviourTest {
    @TempDir
    Path tmp;

    private static LlamaQuantize.Result quantizeHf(Path dir, FileType type, Path out) {
        try (SafetensorsModel w = SafetensorsModel.open(dir)) {
            return LlamaQuantize.quantize(HfToGguf.plan(dir, w, GgmlType.F32), type, null, null, out, 2, null);
        }
    }

    @Test
    void requantizingTheConvertersF32FileGivesLlamaQuantizesBytes() throws Exception {
        // llama-quantize's real input: the converter's F32 GGUF (golden), requantized to Q4_K_M.
        Path out = tmp.resolve("q.gguf");
        try (GgufFile in = GgufFile.open(SharedData.shared("golden/gguf/feather-3m-F32.gguf"))) {
            LlamaQuantize.quantize(GgufModelPlan.of(in), FileType.Q4_K_M, null, null, out, 2, null);
        }
        assertThat(GoldenAccess.sha256(out)).isEqualTo(GoldenAccess.sums("golden/gguf").get("feather-3m-Q4_K_M.gguf"));
        // And from the F16 file to F16: tensors are copied unchanged, only metadata moves (from-quantize file).
        Path f16 = tmp.resolve("f16.gguf");
        try (GgufFile in = GgufFile.open(SharedData.shared("golden/gguf/feather-3m-F16.gguf"))) {
            LlamaQuantize.quantize(GgufModelPlan.of(in), FileType.F16, null, null, f16, 2, null);
        }
        assertThat(GoldenAccess.sha256(f16)).isEqualTo(GoldenAccess.sums("golden/gguf").get("feather-3m-F16.from-quantize.gguf"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void stories260kIsRefusedForLegacyTypesLikeLlamaQuantizeDoes(String type) {
        // 172-wide MLP rows are not a multiple of 32: llama-quantize throws "Unsupported tensor size encountered".
        Path out = tmp.resolve("s.gguf");
        assertThatThrownBy(() -> quantizeHf(SharedData.demoModel("stories260K"), FileType.parse(type), out))
                .isInstanceOf(LlamaQuantize.UnsupportedTensorSizeException.class)
                .hasMessageContaining("not a multiple of 32");
        assertThat(out).doesNotExist();
        assertThat(tmp.resolve(".s.gguf.tmp")).doesNotExist();
    }

    @Test
    void stories260kFallsBackInTheKMixesAsLlamaQuantizeDoes() throws Exception {
        Map<FileType, Map<String, GgmlType>> expected = Map.of(
                // 64-wide rows: Q4_K → Q5_0, Q6_K → Q8_0, Q2_K/Q3_K → IQ4_NL; 172-wide ffn_down rows fit no 32-block → F16.
                FileType.Q4_K_M, Map.of("blk.0.attn_q.weight", GgmlType.Q5_0, "blk.0.ffn_down.weight", GgmlType.F16, "token_embd.weight", GgmlType.Q8_0),
                FileType.Q2_K, Map.of("blk.0.attn_q.weight", GgmlType.IQ4_NL, "blk.0.ffn_gate.weight", GgmlType.IQ4_NL, "blk.0.ffn_down.weight", GgmlType.F16),
                FileType.Q5_K_S, Map.of("blk.0.attn_q.weight", GgmlType.Q5_1),
                FileType.Q6_K, Map.of("blk.0.attn_q.weight", GgmlType.Q8_0, "blk.0.ffn_down.weight", GgmlType.F16));
        for (var e : expected.entrySet()) {
            Path out = tmp.resolve(e.getKey() + ".gguf");
            LlamaQuantize.Result r = quantizeHf(SharedData.demoModel("stories260K"), e.getKey(), out);
            assertThat(r.fallbacks()).as(e.getKey().toString()).isPositive();
            Map<String, GgmlType> got = new HashMap<>();
            try (GgufFile g = GgufFile.open(out)) {
                for (var t : g.tensorInfos()) got.put(t.name(), t.type());
                assertThat(g.get("general.file_type").asInt()).isEqualTo(e.getKey().id);
            }
            e.getValue().forEach((name, type) -> assertThat(got.get(name)).as(e.getKey() + " " + name).isEqualTo(type));
        }
    }

    @Test
    void anImatrixForAnotherModelIsRefusedAndNothingIsWritten() throws Exception {
        Path bad = tmp.resolve("other.imatrix");
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        byte[] name = "blk.0.attn_q.weight".getBytes(StandardCharsets.UTF_8);
        b.putInt(1).putInt(name.length).put(name).putInt(1).putInt(4).putFloat(1).putFloat(1).putFloat(1).putFloat(1).putInt(1).putInt(0);
        Files.write(bad, java.util.Arrays.copyOf(b.array(), b.position()));
        Path out = tmp.resolve("x.gguf");
        try (SafetensorsModel w = SafetensorsModel.open(SharedData.demoModel("feather-3m"))) {
            GgufModelPlan plan = HfToGguf.plan(SharedData.demoModel("feather-3m"), w, GgmlType.F32);
            assertThatThrownBy(() -> LlamaQuantize.quantize(plan, FileType.Q4_K_M, ImportanceMatrix.read(bad), "other.imatrix", out, 2, null))
                    .isInstanceOf(FormatException.class).hasMessageContaining("blk.0.attn_q.weight").hasMessageContaining("another model");
        }
        assertThat(out).doesNotExist();
        try (var files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    @Test
    void cliJsonReportsTypesBytesAndBitsPerWeight() throws Exception {
        Path out = tmp.resolve("cli.gguf");
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int code;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            code = Fw.run("quantize", "--model", SharedData.demoModel("feather-3m").toString(), "--format", "gguf", "--type", "Q4_K_M",
                    "--out", out.toString(), "--json", "--threads", "2");
        } finally {
            System.setOut(old);
        }
        assertThat(code).isZero();
        JsonNode j = JsonMapper.builder().build().readTree(buf.toString(StandardCharsets.UTF_8));
        assertThat(j.get("bytes").asLong()).isEqualTo(Files.size(out));
        assertThat(j.get("bitsPerWeight").asDouble()).isBetween(4.8, 5.0);
        assertThat(j.get("tensors")).hasSize(39);
        assertThat(GoldenAccess.sha256(out)).isEqualTo(GoldenAccess.sums("golden/gguf").get("feather-3m-Q4_K_M.gguf"));
        // Unsupported architecture: a clear error, exit code 1, nothing written.
        Path cfgDir = tmp.resolve("neox");
        Files.createDirectories(cfgDir);
        Files.writeString(cfgDir.resolve("config.json"), "{\"model_type\":\"gpt_neox\"}");
        Files.copy(SharedData.demoModel("feather-3m").resolve("model.safetensors"), cfgDir.resolve("model.safetensors"));
        assertThat(Fw.run("quantize", "--model", cfgDir.toString(), "--type", "Q8_0", "--out", tmp.resolve("neox.gguf").toString())).isEqualTo(1);
        assertThat(tmp.resolve("neox.gguf")).doesNotExist();
    }
}
