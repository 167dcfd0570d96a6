package dev.featherweight.standalone;

import dev.featherweight.contracts.Recipe;
import dev.featherweight.eval.KernelsEvaluationEngine;
import dev.featherweight.kernels.cli.Fw;
import dev.featherweight.quantizer.KernelsQuantizationEngine;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The acceptance path with the real kernels: a tenant and key, feather-3m uploaded over REST, a job with
 * GGUF Q8_0 and RTN int4 plus perplexity and capacity, SUCCEEDED through the API, the GGUF artifact equal
 * byte for byte to {@code fw quantize} of the same model and type, metrics present, lineage to the model
 * and the job. Runs when the kernels on the classpath have {@code fw quantize} (gguf and rtn); otherwise it
 * is skipped and says which is missing.
 */
class PlatformEndToEndTest extends PlatformTestBase {
    static final String TEXT = """
            Once upon a time, there was a little girl named Lily. She loved to play outside in the sun. One day, she saw a big
            red ball in the park. She ran to the ball and kicked it. The ball went high into the sky. Lily laughed and ran after
            it. Her friend Tom came to play too. They played with the ball all day. When the sun went down, they went home happy.
            Once upon a time, there was a small dog named Max. Max liked to run and jump. One day, Max found a stick in the yard.
            He picked it up and ran to his friend, a cat named Tim. Tim did not want to play. Max was sad, but then Tim smiled.
            They played together until it was time to eat. Max and Tim were best friends.
            """;
    Path texts;

    /** Checked before the platform starts, so a skip costs nothing. */
    @Override
    Platform start(Path data) throws Exception {
        capabilities();
        return super.start(data);
    }

    void capabilities() {
        List<String> missing = new ArrayList<>();
        KernelsQuantizationEngine engine = new KernelsQuantizationEngine();
        if (!engine.supports(new Recipe.Gguf("Q8_0"))) missing.add("fw quantize --format gguf --type");
        if (!engine.supports(new Recipe.Rtn(4, 32, true))) missing.add("fw quantize --method");
        assumeTrue(missing.isEmpty(), "the kernels on this branch lack " + missing);
    }

    @Override
    Map<String, String> overrides() {
        try {
            texts = Files.createTempDirectory("fw-texts");
            Files.writeString(texts.resolve("e2e-stories.txt"), TEXT.repeat(4));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        Map<String, String> m = new java.util.HashMap<>(super.overrides());
        m.put("featherweight.eval.texts-dir", texts.toString());
        return m;
    }

    @Test
    void ggufAndRtnJobSucceedsAndTheGgufArtifactIsWhatFwQuantizeMakes() throws Exception {
        ApiClient api = tenantWithFeather("e2e");
        String job = submit(api, """
                {"modelId":"feather-3m","recipes":[{"method":"gguf","fileType":"Q8_0"},{"method":"rtn","bits":4,"groupSize":32,"symmetric":true}],
                 "eval":{"perplexity":{"text":"e2e-stories","ctx":64,"chunks":4},"capacity":{"gpus":["A100-40GB-PCIe","L4"],"ctx":512,"kvDtype":"fp16"}}}""");
        JsonNode done = api.awaitJob(job, Duration.ofMinutes(5));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("SUCCEEDED");
        JsonNode artifacts = artifactsOf(api, job);
        assertThat(artifacts).hasSize(2);
        JsonNode gguf = null;
        for (JsonNode a : artifacts) if (a.path("method").asString().equals("gguf")) gguf = a;
        assertThat(gguf).isNotNull();
        String file = gguf.path("files").get(0).path("path").asString();
        assertThat(file).endsWith(".gguf");
        byte[] downloaded = api.get("/api/v1/artifacts/" + gguf.path("id").asString() + "/download?path=" + file).body();

        Path expected = Files.createTempDirectory("fw-expected").resolve("feather-3m-q8_0.gguf");
        assertThat(Fw.run(KernelsQuantizationEngine.arguments(FEATHER, new Recipe.Gguf("Q8_0"), expected).toArray(String[]::new))).isZero();
        assertThat(downloaded).isEqualTo(Files.readAllBytes(expected));

        JsonNode a = api.get("/api/v1/artifacts/" + gguf.path("id").asString()).json();
        assertThat(a.path("lineage").path("modelName").asString()).isEqualTo("feather-3m");
        assertThat(a.path("lineage").path("jobId").asString()).isEqualTo(job);
        assertThat(a.path("lineage").path("kernelsVersion").asString()).startsWith("featherweight-kernels");
        JsonNode m = a.path("metrics");
        double base = new KernelsEvaluationEngine().perplexity(FEATHER, FEATHER, texts.resolve("e2e-stories.txt"), 64, 4);
        double quantized = new KernelsEvaluationEngine().perplexity(expected.getParent(), FEATHER, texts.resolve("e2e-stories.txt"), 64, 4);
        assertThat(m.path("perplexity_base").asDouble()).isEqualTo(base);
        assertThat(m.path("perplexity").asDouble()).isEqualTo(quantized);
        assertThat(m.path("perplexity_delta").asDouble()).isEqualTo(quantized - base);
        assertThat(m.path("capacity.L4.kv_bytes_per_token").asDouble()).isEqualTo(2.0 * 4 * 2 * 32 * 2);
        assertThat(m.path("artifact_bytes").asDouble()).isEqualTo(downloaded.length);
        assertThat(m.path("gpu_seconds").asDouble()).isPositive();
    }
}
