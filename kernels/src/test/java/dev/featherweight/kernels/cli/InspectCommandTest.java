package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** fw inspect: the result alone on stdout (table or JSON), agreeing with the reference listings; errors on stderr. */
class InspectCommandTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @TempDir
    Path tmp;

    @Test
    void jsonOfTheDemoFolderCountsEveryParameterAndByte() throws IOException {
        Path dir = SharedData.demoModel("feather-3m");
        InferCommandsTest.Run r = InferCommandsTest.fw("inspect", dir.toString(), "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        JsonNode j = JSON.readTree(r.out());
        assertThat(j.get("format").asString()).isEqualTo("safetensors");
        assertThat(j.get("architecture").asString()).isEqualTo("llama");
        // SOURCE.md of feather-3m: 3,279,104 parameters, float32.
        assertThat(j.get("parameters").asLong()).isEqualTo(3_279_104L);
        assertThat(j.get("tensorBytes").asLong()).isEqualTo(3_279_104L * 4);
        long folder = 0;
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) if (Files.isRegularFile(f)) folder += Files.size(f);
        }
        assertThat(j.get("bytesOnDisk").asLong()).isEqualTo(folder);
        long sum = 0;
        for (JsonNode t : j.get("tensors")) {
            long elements = 1;
            for (JsonNode d : t.get("shape")) elements *= d.asLong();
            assertThat(t.get("dtype").asString()).isEqualTo("F32");
            assertThat(t.get("bytes").asLong()).isEqualTo(elements * 4);
            sum += t.get("bytes").asLong();
        }
        assertThat(sum).isEqualTo(j.get("tensorBytes").asLong());
        JsonNode q = null;
        for (JsonNode t : j.get("tensors")) if (t.get("name").asString().equals("model.layers.0.self_attn.k_proj.weight")) q = t;
        assertThat(q).isNotNull();
        assertThat(q.get("shape").toString()).isEqualTo("[64,256]");
    }

    @Test
    void ggufListingAgreesWithLlamaCppsReader() throws IOException {
        Path gguf = SharedData.shared("golden/gguf/feather-3m-Q4_K_M.gguf");
        JsonNode ref = JSON.readTree(gguf.resolveSibling("feather-3m-Q4_K_M.inspect.json").toFile());
        InferCommandsTest.Run r = InferCommandsTest.fw("inspect", gguf.toString(), "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = JSON.readTree(r.out());
        assertThat(j.get("format").asString()).isEqualTo("gguf");
        assertThat(j.get("architecture").asString()).isEqualTo("llama");
        assertThat(j.get("bytesOnDisk").asLong()).isEqualTo(Files.size(gguf));
        assertThat(j.get("tensorBytes").asLong()).isEqualTo(ref.get("tensor_bytes").asLong());
        assertThat(j.get("details").get("ggufVersion").asInt()).isEqualTo(3);
        Map<String, JsonNode> refTensors = new HashMap<>();
        for (JsonNode t : ref.get("tensors")) refTensors.put(t.get("name").asString(), t);
        assertThat(j.get("tensors").size()).isEqualTo(refTensors.size());
        long params = 0;
        for (JsonNode t : j.get("tensors")) {
            JsonNode rt = refTensors.get(t.get("name").asString());
            assertThat(t.get("dtype").asString()).isEqualTo(rt.get("type").asString());
            assertThat(t.get("bytes").asLong()).isEqualTo(rt.get("nbytes").asLong());
            // shape is ne reversed
            int n = rt.get("ne").size();
            for (int i = 0; i < n; i++) assertThat(t.get("shape").get(i).asLong()).isEqualTo(rt.get("ne").get(n - 1 - i).asLong());
            long e = 1;
            for (JsonNode d : rt.get("ne")) e *= d.asLong();
            params += e;
        }
        assertThat(j.get("parameters").asLong()).isEqualTo(params).isEqualTo(3_279_104L);
    }

    @Test
    void tableNamesEveryTensor() {
        Path dir = SharedData.demoModel("stories260K");
        InferCommandsTest.Run r = InferCommandsTest.fw("inspect", dir.resolve("model.safetensors").toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("format         safetensors").contains("architecture   llama")
                .contains("model.layers.4.mlp.down_proj.weight").contains("parameters     260,032");
    }

    @Test
    void errorsGoToStderrWithANonZeroExit() throws IOException {
        Path bad = Files.write(tmp.resolve("broken.safetensors"), new byte[]{9, 9, 9});
        InferCommandsTest.Run r = InferCommandsTest.fw("inspect", bad.toString(), "--json");
        assertThat(r.exit()).isNotZero();
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("broken.safetensors").contains("truncated");
        InferCommandsTest.Run missing = InferCommandsTest.fw("inspect", tmp.resolve("nope").toString());
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.out()).isEmpty();
        assertThat(missing.err()).contains("nope");
    }
}
