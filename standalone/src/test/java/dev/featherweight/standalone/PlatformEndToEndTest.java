package dev.featherweight.standalone;

import dev.featherweight.catalog.Catalog;
import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.recommend.Recommendation;
import dev.featherweight.contracts.Recipe;
import dev.featherweight.eval.KernelsEvaluationEngine;
import dev.featherweight.quantizer.KernelsQuantizationEngine;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The acceptance path with the real kernels: a tenant and key, feather-3m uploaded over REST, a job with
 * GGUF Q8_0 and RTN int4 plus perplexity and capacity, SUCCEEDED through the API, the GGUF artifact equal
 * byte for byte to what the kernels make for the same model and type (and, where ../shared is present, to
 * llama.cpp's own file), perplexities equal to the kernels' for the same files, capacity present, lineage
 * to the model and the job; KL divergence of each artifact against one base logits blob of the model, computed once
 * and deleted with the model. RTN joins the job when the kernels have {@code fw quantize --method}; until
 * then the job holds the GGUF recipe alone (and says so). A recommend job on an L4 and a T4 (after the first test, whose
 * base-logits count it would change): the candidate the capacity model rules out is never quantized, the others are real
 * artifacts in the registry whose measured numbers make the Pareto front and the recommendation, visible to its tenant only.
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class PlatformEndToEndTest extends PlatformTestBase {
    static final String TEXT = """
            Once upon a time, there was a little girl named Lily. She loved to play outside in the sun. One day, she saw a big
            red ball in the park. She ran to the ball and kicked it. The ball went high into the sky. Lily laughed and ran after
            it. Her friend Tom came to play too. They played with the ball all day. When the sun went down, they went home happy.
            Once upon a time, there was a small dog named Max. Max liked to run and jump. One day, Max found a stick in the yard.
            He picked it up and ran to his friend, a cat named Tim. Tim did not want to play. Max was sad, but then Tim smiled.
            They played together until it was time to eat. Max and Tim were best friends.
            """;
    /** Between Q4_K_M's and Q2_K's mean KLD on this text (ctx 64, 4 chunks: 0.0032 and 0.041 with fw kld and llama.cpp's files). */
    static final double KLD_BUDGET = 0.012;
    static final boolean RTN = new KernelsQuantizationEngine().supports(new Recipe.Rtn(4, 32, true).resolve(null));
    Path texts;

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
    @org.junit.jupiter.api.Order(1)
    void ggufAndRtnJobSucceedsAndTheGgufArtifactIsWhatTheKernelsMake() throws Exception {
        if (!RTN) System.err.println("PlatformEndToEndTest: the kernels lack fw quantize --method; the job holds the GGUF recipe alone");
        ApiClient api = tenantWithFeather("e2e");
        String recipes = "{\"method\":\"gguf\",\"fileType\":\"Q8_0\"}" + (RTN ? ",{\"method\":\"rtn\",\"bits\":4,\"groupSize\":32,\"symmetric\":true}" : "");
        String job = submit(api, "{\"modelId\":\"feather-3m\",\"recipes\":[" + recipes + "],"
                + "\"eval\":{\"perplexity\":{\"text\":\"e2e-stories\",\"ctx\":64,\"chunks\":4},\"kld\":{},\"capacity\":{\"gpus\":[\"A100-40GB-PCIe\",\"L4\"],\"ctx\":512,\"kvDtype\":\"fp16\"}}}");
        JsonNode done = api.awaitJob(job, Duration.ofMinutes(5));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("SUCCEEDED");
        JsonNode artifacts = artifactsOf(api, job);
        assertThat(artifacts).hasSize(RTN ? 2 : 1);
        JsonNode gguf = null;
        for (JsonNode a : artifacts) if (a.path("method").asString().equals("gguf")) gguf = a;
        assertThat(gguf).isNotNull();
        String file = gguf.path("files").get(0).path("path").asString();
        assertThat(file).isEqualTo("feather-3m-q8_0.gguf");
        byte[] downloaded = api.get("/api/v1/artifacts/" + gguf.path("id").asString() + "/download?path=" + file).body();

        Path expected = Files.createTempDirectory("fw-expected").resolve(file);
        KernelsQuantizationEngine.gguf(FEATHER, "Q8_0", expected, 2);
        assertThat(downloaded).isEqualTo(Files.readAllBytes(expected));
        Path sums = REPO.resolveSibling("shared/golden/gguf/SHA256SUMS");
        if (Files.exists(sums)) { // llama.cpp's own Q8_0 of feather-3m
            String golden = Files.readAllLines(sums).stream().filter(l -> l.endsWith(" feather-3m-Q8_0.gguf"))
                    .map(l -> l.substring(0, 64)).findFirst().orElseThrow();
            assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(downloaded))).isEqualTo(golden);
        }

        JsonNode a = api.get("/api/v1/artifacts/" + gguf.path("id").asString()).json();
        assertThat(a.path("lineage").path("modelName").asString()).isEqualTo("feather-3m");
        assertThat(a.path("lineage").path("jobId").asString()).isEqualTo(job);
        assertThat(a.path("lineage").path("kernelsVersion").asString()).startsWith("featherweight-kernels");
        JsonNode m = a.path("metrics");
        double base = new KernelsEvaluationEngine().perplexity(FEATHER, FEATHER, texts.resolve("e2e-stories.txt"), 64, 4);
        double quantized = new KernelsEvaluationEngine().perplexity(expected, FEATHER, texts.resolve("e2e-stories.txt"), 64, 4);
        // the kernels' parallel reductions may sum in a different order from run to run: equal to ~1e-7
        assertThat(m.path("perplexity_base").asDouble()).isCloseTo(base, org.assertj.core.api.Assertions.withinPercentage(1e-4));
        assertThat(m.path("perplexity").asDouble()).isCloseTo(quantized, org.assertj.core.api.Assertions.withinPercentage(1e-4));
        assertThat(m.path("perplexity_delta").asDouble())
                .isEqualTo(m.path("perplexity").asDouble() - m.path("perplexity_base").asDouble());
        assertThat(quantized).isNotEqualTo(base).isCloseTo(base, org.assertj.core.api.Assertions.withinPercentage(5));
        assertThat(m.path("capacity.L4.kv_bytes_per_token").asDouble()).isEqualTo(2.0 * 4 * 2 * 32 * 2);
        assertThat(m.path("capacity.A100-40GB-PCIe.max_sequences_ctx512").asDouble()).isPositive();
        assertThat(m.path("artifact_bytes").asDouble()).isEqualTo(downloaded.length);
        assertThat(m.path("gpu_seconds").asDouble()).isPositive();
        assertThat(done.path("gpuSeconds").asDouble()).isPositive();

        // KL divergence: every artifact against one base logits file of feather-3m, computed once by the eval-worker and
        // kept in the registry as the model's internal blob (not a model file, not an artifact); deleting the model deletes it
        for (JsonNode art : artifacts) {
            JsonNode metrics = api.get("/api/v1/artifacts/" + art.path("id").asString()).json().path("metrics");
            assertThat(metrics.path("kld_mean").asDouble()).as(art.toString()).isPositive().isLessThan(0.1);
            assertThat(metrics.path("same_top_p").asDouble()).as(art.toString()).isGreaterThan(0.8).isLessThanOrEqualTo(1);
        }
        assertThat(PlatformMechanicsTest.counter(platform.evalWorker, "featherweight.eval.kld.base.computed")).isEqualTo(1);
        JsonNode model = api.get("/api/v1/models/feather-3m").json();
        assertThat(model.path("files").toString()).doesNotContain("kld-base");
        String tenantId = model.path("tenantId").asString();
        ApiClient registry = new ApiClient("http://127.0.0.1:" + platform.port(platform.registry), null)
                .withHeader(dev.featherweight.servicesecurity.ServiceCredential.HEADER, platform.serviceCredential());
        String blob = "/internal/tenants/" + tenantId + "/models/feather-3m/blobs/kld-base.e2e-stories.ctx64.chunks4";
        ApiClient.Response stored = registry.get(blob);
        assertThat(stored.status()).as(stored.toString()).isEqualTo(200);
        // llama.cpp's layout: 20 header bytes, then per chunk 64 int32 tokens and 31 scored rows of 2·256+4 uint16
        assertThat(stored.json().path("size").asLong()).isEqualTo(20 + 4 * (64 * 4 + 31 * (2 * 256 + 4) * 2));
        Path s3 = platform.dataDir().resolve("s3");
        assertThat(PlatformMechanicsTest.blobsUnder(s3, "model-blobs/" + tenantId + "/feather-3m/")).isEqualTo(1);
        ApiClient.Response deleted = api.delete("/api/v1/models/feather-3m");
        assertThat(deleted.status()).as(deleted.toString()).isEqualTo(204);
        assertThat(registry.get(blob).status()).isEqualTo(404);
        assertThat(PlatformMechanicsTest.blobsUnder(s3, "model-blobs/" + tenantId + "/feather-3m/")).isZero();
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void recommendJobPrunesBeforeComputeAndRecommendsFromMeasuredArtifacts() throws Exception {
        ApiClient api = tenantWithFeather("recommend");
        ModelShape shape = ModelShape.fromConfigJson("feather-3m", Files.readAllBytes(FEATHER.resolve("config.json")));
        GpuCatalog catalog = GpuCatalog.builtIn();
        List<Recommendation.GpuTarget> gpus = List.of(new Recommendation.GpuTarget(catalog.get("L4"), 1), new Recommendation.GpuTarget(catalog.get("T4"), 1));
        // the workload: one sequence more than F16-sized weights leave room for on either GPU (the capacity model's numbers)
        long f16Bytes = Catalog.builtIn().estimate(new Recipe.Gguf("F16").resolve(shape), shape).outputBytes();
        long f16Sequences = Recommendation.fits(shape, f16Bytes, gpus, new Recommendation.Workload(512, 1)).stream()
                .mapToLong(Recommendation.Fit::maxSequences).max().orElseThrow();
        long concurrency = f16Sequences + 1;
        String q4 = new Recipe.Gguf("Q4_K_M").label(), q2 = new Recipe.Gguf("Q2_K").label(), f16 = new Recipe.Gguf("F16").label();

        // invalid: every problem named, nothing queued
        ApiClient.Response invalid = api.post("/api/v1/recommendations", """
                {"modelId":"feather-3m","gpus":[{"name":"H200"}],"ctx":512,"workload":{"concurrency":4,"requestsPerSecond":2},"quality":{}}""");
        assertThat(invalid.status()).as(invalid.toString()).isEqualTo(400);
        assertThat(invalid.text()).contains("\"field\":\"gpus[0].name\"", "\"field\":\"workload\",\"message\":\"exactly one of",
                "\"field\":\"quality\",\"message\":\"exactly one of");
        assertThat(api.get("/api/v1/jobs").json().path("total").asLong()).isZero();

        ApiClient.Response accepted = api.post("/api/v1/recommendations", """
                {"modelId":"feather-3m","gpus":[{"name":"L4"},{"name":"T4","count":1}],"ctx":512,"workload":{"concurrency":%d},
                 "quality":{"maxKld":%s},"candidates":[{"method":"gguf","fileType":"Q4_K_M"},{"method":"gguf","fileType":"Q2_K"},{"method":"gguf","fileType":"F16"}],
                 "eval":{"text":"e2e-stories","ctx":64,"chunks":4}}""".formatted(concurrency, KLD_BUDGET));
        assertThat(accepted.status()).as(accepted.toString()).isEqualTo(202);
        String id = accepted.json().path("jobId").asString();
        assertThat(accepted.header("Location")).isEqualTo("/api/v1/recommendations/" + id);
        JsonNode job = api.awaitJob(id, Duration.ofMinutes(5));
        assertThat(job.path("state").asString()).as(job.toString()).isEqualTo("SUCCEEDED");

        // pruned before any compute: F16 has no task and no artifact
        List<String> taskLabels = new ArrayList<>();
        for (JsonNode t : job.path("tasks")) taskLabels.add(t.path("label").asString());
        assertThat(taskLabels).containsExactlyInAnyOrder(q4, q2, "eval of " + q4, "eval of " + q2);
        JsonNode artifacts = artifactsOf(api, id);
        assertThat(artifacts).hasSize(2);
        for (JsonNode a : artifacts) assertThat(a.toString()).doesNotContain("F16");

        JsonNode r = api.get("/api/v1/recommendations/" + id).json();
        assertThat(r.path("state").asString()).isEqualTo("SUCCEEDED");
        assertThat(r.path("pruned")).hasSize(1);
        assertThat(r.path("pruned").get(0).path("candidate").asString()).isEqualTo(f16);
        assertThat(r.path("pruned").get(0).path("reason").asString())
                .contains("at most " + f16Sequences + " sequences of 512 tokens on L4 / T4, " + concurrency + " needed");
        Map<String, JsonNode> byLabel = new java.util.HashMap<>();
        for (JsonNode c : r.path("candidates")) byLabel.put(c.path("label").asString(), c);
        assertThat(byLabel).containsOnlyKeys(q4, q2);
        for (JsonNode c : byLabel.values()) { // the measured numbers are those of a real artifact kept in the registry
            assertThat(c.path("state").asString()).isEqualTo("MEASURED");
            JsonNode a = api.get("/api/v1/artifacts/" + c.path("artifactId").asString()).json();
            assertThat(a.path("lineage").path("jobId").asString()).isEqualTo(id);
            assertThat(c.path("bytes").asLong()).isEqualTo(a.path("totalBytes").asLong());
            assertThat(c.path("loss").asDouble()).isEqualTo(a.path("metrics").path("kld_mean").asDouble()).isPositive();
            assertThat(c.path("sameTopP").asDouble()).isEqualTo(a.path("metrics").path("same_top_p").asDouble());
            assertThat(c.path("fits")).hasSize(2);
            assertThat(c.path("fits").get(0).path("gpu").asString()).isEqualTo("L4");
            assertThat(c.path("fits").get(1).path("usdPerMillionTokens").asDouble()).isPositive();
            assertThat(c.path("fits").get(0).path("maxSequences").asLong()).isGreaterThanOrEqualTo(concurrency);
        }
        JsonNode q4c = byLabel.get(q4), q2c = byLabel.get(q2);
        assertThat(q2c.path("bytes").asLong()).isLessThan(q4c.path("bytes").asLong());
        assertThat(q2c.path("loss").asDouble()).isGreaterThan(KLD_BUDGET).isGreaterThan(q4c.path("loss").asDouble());
        assertThat(q4c.path("meetsQuality").asBoolean()).isTrue();
        assertThat(q2c.path("meetsQuality").asBoolean()).isFalse();
        assertThat(r.path("front").valueStream().map(JsonNode::asString).toList()).containsExactly(q2, q4);
        assertThat(r.path("recommended").asString()).isEqualTo(q4);
        assertThat(r.path("recommendedArtifactId").asString()).isEqualTo(q4c.path("artifactId").asString());
        assertThat(r.path("reasons").asString()).startsWith(q4 + ": fits ")
                .contains(q2 + " would fit", "exceeds your KLD budget", f16 + " was not quantized");

        // another tenant sees neither the recommendation nor its artifacts
        ApiClient other = tenant("recommend-other");
        assertThat(other.get("/api/v1/recommendations/" + id).status()).isEqualTo(404);
        assertThat(other.get("/api/v1/artifacts/" + q4c.path("artifactId").asString()).status()).isEqualTo(404);

        // a workload no candidate can serve: a clear answer at once, nothing quantized
        ApiClient.Response none = api.post("/api/v1/recommendations", """
                {"modelId":"feather-3m","gpus":[{"name":"T4"}],"ctx":512,"workload":{"concurrency":100000000},"quality":{"maxKld":0.1},
                 "candidates":[{"method":"gguf","fileType":"Q2_K"}],"eval":{"text":"e2e-stories","ctx":64,"chunks":4}}""");
        assertThat(none.status()).as(none.toString()).isEqualTo(202);
        String noneId = none.json().path("jobId").asString();
        assertThat(api.awaitJob(noneId, Duration.ofMinutes(1)).path("state").asString()).isEqualTo("SUCCEEDED");
        JsonNode answer = api.get("/api/v1/recommendations/" + noneId).json();
        assertThat(answer.path("recommended").isNull()).isTrue();
        assertThat(answer.path("candidates")).isEmpty();
        assertThat(answer.path("reasons").asString()).startsWith("No candidate can serve 100000000 sequences of 512 tokens")
                .contains(q2 + " was not quantized");
        assertThat(artifactsOf(api, noneId)).isEmpty();
    }
}
