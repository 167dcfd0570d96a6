package dev.featherweight.standalone;

import dev.featherweight.contracts.Recipe;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Platform mechanics with the kernels replaced by {@link StubEngine}: the path REST → Kafka → job-service →
 * worker → registry → REST, byte-exact transport of artifacts, fencing, leases, redelivery, S3 outage.
 */
class PlatformMechanicsTest extends PlatformTestBase {

    @Override
    Map<String, Object> sharedBeans() {
        return Map.of("quantizationEngine", new StubEngine());
    }

    @Test
    void jobRunsEndToEndAndTheArtifactArrivesByteForByte() throws Exception {
        ApiClient api = tenantWithFeather("mechanics");
        String job = submit(api, """
                {"modelId":"feather-3m","recipes":[{"method":"gguf","fileType":"Q8_0"},{"method":"rtn","bits":4,"groupSize":32,"symmetric":true}],
                 "eval":{"capacity":{"gpus":["A100-40GB-PCIe","L4"],"ctx":512,"kvDtype":"f16"}}}""");
        JsonNode done = api.awaitJob(job, Duration.ofSeconds(60));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("SUCCEEDED");
        assertThat(done.path("tasks")).hasSize(4);
        for (JsonNode t : done.path("tasks")) {
            assertThat(t.path("state").asString()).isEqualTo("SUCCEEDED");
            assertThat(t.path("progress").asDouble()).isEqualTo(1.0);
        }
        JsonNode artifacts = artifactsOf(api, job);
        assertThat(artifacts).hasSize(2);
        JsonNode gguf = null;
        for (JsonNode a : artifacts) if (a.path("method").asString().equals("gguf")) gguf = a;
        assertThat(gguf).isNotNull();
        ApiClient.Response file = api.get("/api/v1/artifacts/" + gguf.path("id").asString() + "/download?path=model.bin");
        assertThat(file.status()).isEqualTo(200);
        Path expectedDir = Files.createTempDirectory("fw-expected");
        new StubEngine().quantize(FEATHER, new Recipe.Gguf("Q8_0"), expectedDir, (i, n, m) -> {});
        assertThat(file.body()).isEqualTo(Files.readAllBytes(expectedDir.resolve("model.bin")));
        JsonNode a = api.get("/api/v1/artifacts/" + gguf.path("id").asString()).json();
        assertThat(a.path("lineage").path("modelName").asString()).isEqualTo("feather-3m");
        assertThat(a.path("lineage").path("jobId").asString()).isEqualTo(job);
        assertThat(a.path("metrics").path("capacity.L4.kv_bytes_per_token").asDouble()).isEqualTo(2.0 * 4 * 2 * 32 * 2);
        assertThat(a.path("metrics").path("artifact_bytes").asDouble()).isEqualTo(file.body().length);
    }
}
