package dev.featherweight.standalone;

import dev.featherweight.contracts.Json;
import dev.featherweight.contracts.Message;
import dev.featherweight.contracts.Recipe;
import dev.featherweight.contracts.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.context.ConfigurableApplicationContext;
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
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PlatformMechanicsTest extends PlatformTestBase {
    static final String RTN_JOB = """
            {"modelId":"feather-3m","recipes":[{"method":"rtn","bits":4,"groupSize":32,"symmetric":true}]}""";

    KafkaProbe kafka() {
        return new KafkaProbe(kafkaBootstrap());
    }


    @Override
    Map<String, String> overrides() {
        Map<String, String> o = new java.util.HashMap<>(super.overrides());
        o.put("featherweight.registry.upload-timeout", "20s"); // an upload here takes about a second
        o.put("featherweight.registry.upload-sweep", "1s");
        // a worker waits out a store outage this long before the attempt fails: longer than the 30 s outage that must
        // be waited out (Order 14), and two attempts instead of three so that the outage that must fail (Order 8)
        // costs 80 s of waiting, not 135
        o.put("featherweight.worker.store-retry", "40s");
        o.put("featherweight.jobs.max-attempts", "2");
        return o;
    }

    @Override
    Map<String, Object> sharedBeans() {
        return Map.of("quantizationEngine", new StubEngine());
    }

    @Test
    @Order(1)
    void jobRunsEndToEndAndTheArtifactArrivesByteForByte() throws Exception {
        ApiClient api = tenantWithFeather("mechanics");
        String job = submit(api, """
                {"modelId":"feather-3m","recipes":[{"method":"gguf","fileType":"Q8_0"},{"method":"rtn","bits":4,"groupSize":32,"symmetric":true}],
                 "eval":{"capacity":{"gpus":["A100-40GB-PCIe","L4"],"ctx":512,"kvDtype":"fp16"}}}""");
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
        new StubEngine().quantize(FEATHER, new Recipe.Gguf("Q8_0").resolve(null), expectedDir, (i, n, m) -> {});
        assertThat(file.body()).isEqualTo(Files.readAllBytes(expectedDir.resolve("model.bin")));
        JsonNode a = api.get("/api/v1/artifacts/" + gguf.path("id").asString()).json();
        assertThat(a.path("lineage").path("modelName").asString()).isEqualTo("feather-3m");
        assertThat(a.path("lineage").path("jobId").asString()).isEqualTo(job);
        assertThat(a.path("metrics").path("capacity.L4.kv_bytes_per_token").asDouble()).isEqualTo(2.0 * 4 * 2 * 32 * 2);
        assertThat(a.path("metrics").path("artifact_bytes").asDouble()).isEqualTo(file.body().length);
    }

    @Test
    @Order(2)
    void badRecipeIs400ProblemJsonAndNothingReachesKafka() throws Exception {
        ApiClient api = tenantWithFeather("bad-recipe");
        try (KafkaProbe kafka = kafka()) {
            long before = kafka.endOffsets(Topics.JOB_COMMANDS);
            ApiClient.Response r = api.post("/api/v1/jobs", """
                    {"modelId":"feather-3m","recipes":[{"method":"gptq","bits":5,"groupSize":128,"damp":0.01,"calibrationSamples":128,"calibrationSeqLen":512}]}""");
            assertThat(r.status()).as(r.toString()).isEqualTo(400);
            assertThat(r.header("Content-Type")).startsWith("application/problem+json");
            assertThat(r.json().path("type").asString()).isEqualTo("https://featherweight.dev/problems/validation");
            assertThat(r.json().path("errors").get(0).path("field").asString()).isEqualTo("recipes[0].bits");
            assertThat(r.json().path("errors").get(0).path("message").asString()).isEqualTo("5 is not allowed; one of [2, 3, 4, 8]");
            // what the engine cannot run is refused at submit, every problem at once: a GGUF type llama-quantize refuses without an importance matrix,
            // damp 0 (GPTQ's Hessian would not be invertible), bits 5, and — from the model's config.json — a group wider than its rows
            ApiClient.Response cannotRun = api.post("/api/v1/jobs", """
                    {"modelId":"feather-3m","recipes":[{"method":"gguf","fileType":"IQ2_XXS"},{"method":"gptq","bits":5,"damp":0.0},{"method":"rtn","bits":4}]}""");
            assertThat(cannotRun.status()).as(cannotRun.toString()).isEqualTo(400);
            assertThat(cannotRun.json().path("errors").findValuesAsString("field")).containsExactly("recipes[0].imatrix", "recipes[1].bits", "recipes[1].damp");
            assertThat(cannotRun.json().path("errors").get(2).path("message").asString()).isEqualTo("must be > 0 and <= 1, got 0.0");
            ApiClient.Response tooWideGroup = api.post("/api/v1/jobs", """
                    {"modelId":"feather-3m","recipes":[{"method":"rtn","groupSize":512},{"method":"gptq","calibrationSeqLen":1024}]}""");
            assertThat(tooWideGroup.status()).as(tooWideGroup.toString()).isEqualTo(400);
            assertThat(tooWideGroup.json().path("errors").findValuesAsString("field")).containsExactly("recipes[0].groupSize", "recipes[1].calibrationSeqLen");
            assertThat(tooWideGroup.json().path("errors").get(1).path("message").asString()).isEqualTo("1024 exceeds the model's max_position_embeddings 512");
            ApiClient.Response unknownMethod = api.post("/api/v1/jobs", """
                    {"modelId":"feather-3m","recipes":[{"method":"magic"}]}""");
            assertThat(unknownMethod.status()).isEqualTo(400);
            assertThat(unknownMethod.header("Content-Type")).startsWith("application/problem+json");
            ApiClient.Response huge = api.post("/api/v1/jobs", "{\"modelId\":\"feather-3m\",\"pad\":\"" + "x".repeat(300_000) + "\"}");
            assertThat(huge.status()).isEqualTo(413);
            assertThat(huge.header("Content-Type")).startsWith("application/problem+json");
            assertThat(kafka.endOffsets(Topics.JOB_COMMANDS)).isEqualTo(before);
        }
    }

    @Test
    @Order(3)
    void unknownModelIs404AndOtherTenantsJobsAndArtifactsAre404() throws Exception {
        ApiClient owner = tenantWithFeather("owner");
        ApiClient other = tenant("other");
        ApiClient.Response unknown = other.post("/api/v1/jobs", RTN_JOB);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().path("detail").asString()).isEqualTo("model feather-3m not found");
        String job = submit(owner, RTN_JOB);
        JsonNode done = owner.awaitJob(job, Duration.ofSeconds(60));
        assertThat(done.path("state").asString()).isEqualTo("SUCCEEDED");
        String artifact = done.path("tasks").get(0).path("artifactId").asString();
        assertThat(owner.get("/api/v1/artifacts/" + artifact).status()).isEqualTo(200);
        assertThat(other.get("/api/v1/jobs/" + job).status()).isEqualTo(404);
        assertThat(other.post("/api/v1/jobs/" + job + "/cancel", "").status()).isEqualTo(404);
        assertThat(other.get("/api/v1/artifacts/" + artifact).status()).isEqualTo(404);
        assertThat(other.get("/api/v1/artifacts/" + artifact + "/download?path=model.bin").status()).isEqualTo(404);
        assertThat(other.get("/api/v1/artifacts?job=" + job).json()).isEmpty();
        assertThat(admin.withKey("fw_not-a-key").get("/api/v1/jobs").status()).isEqualTo(401);
    }

    @Test
    @Order(4)
    void idempotencyKeyMakesARetriedSubmitTheSameJob() throws Exception {
        ApiClient api = tenantWithFeather("idempotent");
        String first = submit(api, RTN_JOB, "Idempotency-Key", "abc-1");
        String again = submit(api, RTN_JOB, "Idempotency-Key", "abc-1");
        assertThat(again).isEqualTo(first);
        assertThat(api.awaitJob(first, Duration.ofSeconds(60)).path("state").asString()).isEqualTo("SUCCEEDED");
        assertThat(api.get("/api/v1/jobs").json().path("total").asLong()).isEqualTo(1);
        assertThat(artifactsOf(api, first)).hasSize(1);
    }

    @Test
    @Order(5)
    void jobThatDoesNotFitTheGpuFailsWithTheMemoryNumbers() throws Exception {
        ApiClient api = tenantWithFeather("too-big");
        String job = submit(api, """
                {"modelId":"feather-3m","recipes":[{"method":"gptq","bits":4,"groupSize":128,"damp":0.01,"calibrationSamples":524288,"calibrationSeqLen":512}]}""");
        JsonNode done = api.awaitJob(job, Duration.ofSeconds(60));
        assertThat(done.path("state").asString()).isEqualTo("FAILED");
        // 524288 × 512 tokens × 256 (hidden) × 4 bytes × 2 (in and out) = 549.76 GB of hidden states alone
        assertThat(done.path("error").asString())
                .contains("does not fit the simulated A100-40GB-PCIe: peak ")
                .contains("calibration hidden states fp32 549.76 GB")
                .contains("> 40.00 GB device memory");
        assertThat(done.path("tasks").get(0).path("attempt").asInt()).isEqualTo(1); // not retried: it can never fit
    }

    @Test
    @Order(6)
    void workerStoppedMidTaskIsReplacedAndTheJobSucceedsWithOneArtifact() throws Exception {
        ApiClient api = tenantWithFeather("worker-dies");
        // a worker slow enough (1.5 s per block, 5 blocks) to be stopped mid-task whatever the machine's load
        for (ConfigurableApplicationContext c : platform.quantizers) c.close();
        platform.quantizers.clear();
        ConfigurableApplicationContext slow = platform.startQuantizer("quantizer-slow", Map.of("featherweight.worker.block-delay", "1500ms"));
        String job = submit(api, RTN_JOB);
        JsonNode running;
        do { // until the first attempt reports its second block
            Thread.sleep(100);
            running = api.get("/api/v1/jobs/" + job).json();
        } while (running.path("tasks").isEmpty() || running.path("tasks").get(0).path("block").asInt() < 2);
        assertThat(running.path("tasks").get(0).path("attempt").asInt()).isEqualTo(1);
        assertThat(running.path("tasks").get(0).path("state").asString()).isEqualTo("RUNNING");
        slow.close();
        platform.quantizers.remove(slow);
        platform.startQuantizer("quantizer-2", Map.of());
        JsonNode done = api.awaitJob(job, Duration.ofSeconds(90));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("SUCCEEDED");
        JsonNode task = done.path("tasks").get(0);
        assertThat(task.path("attempt").asInt()).isEqualTo(2);
        assertThat(task.path("worker").asString()).isEqualTo("quantizer-2");
        JsonNode artifacts = artifactsOf(api, job);
        assertThat(artifacts).hasSize(1);
        // the second attempt resumed from the blocks the first one had finished
        assertThat(artifacts.get(0).path("metrics").path("resumed_blocks").asDouble()).isGreaterThanOrEqualTo(2.0);
        Path expected = Files.createTempDirectory("fw-expected");
        new StubEngine().quantize(FEATHER, new Recipe.Rtn(4, 32, true).resolve(null), expected, (i, n, m) -> {});
        assertThat(api.get("/api/v1/artifacts/" + artifacts.get(0).path("id").asString() + "/download?path=model.bin").body())
                .isEqualTo(Files.readAllBytes(expected.resolve("model.bin")));
    }

    @Test
    @Order(7)
    void theSameKafkaMessagesDeliveredTwiceChangeNothing() throws Exception {
        ApiClient api = tenantWithFeather("redelivery");
        String job = submit(api, RTN_JOB);
        assertThat(api.awaitJob(job, Duration.ofSeconds(60)).path("state").asString()).isEqualTo("SUCCEEDED");
        try (KafkaProbe kafka = kafka()) {
            var submitted = kafka.readAll(Topics.JOB_COMMANDS).stream().filter(r -> r.key().equals(job)).toList();
            var assigned = kafka.readAll(Topics.TASKS_QUANTIZE).stream()
                    .filter(r -> Json.read(r.value()) instanceof Message.TaskAssigned t && t.jobId().equals(job)).toList();
            var succeeded = kafka.readAll(Topics.TASK_EVENTS).stream()
                    .filter(r -> Json.read(r.value()) instanceof Message.TaskSucceeded t && t.jobId().equals(job)).toList();
            assertThat(submitted).hasSize(1);
            assertThat(assigned).hasSize(1);
            assertThat(succeeded).hasSize(1);
            MeterRegistry workerMeters = platform.quantizers.getLast().getBean(MeterRegistry.class);
            double skippedBefore = workerMeters.counter("featherweight.worker.task.skipped").count();
            kafka.send(Topics.JOB_COMMANDS, submitted.get(0).key(), submitted.get(0).value());
            kafka.send(Topics.TASKS_QUANTIZE, assigned.get(0).key(), assigned.get(0).value());
            kafka.send(Topics.TASK_EVENTS, succeeded.get(0).key(), succeeded.get(0).value());
            kafka.awaitConsumed("job-service", Topics.JOB_COMMANDS);
            kafka.awaitConsumed("job-service", Topics.TASK_EVENTS);
            for (int i = 0; i < 300 && workerMeters.counter("featherweight.worker.task.skipped").count() == skippedBefore; i++) Thread.sleep(100);
            assertThat(workerMeters.counter("featherweight.worker.task.skipped").count()).isEqualTo(skippedBefore + 1);
        }
        JsonNode after = api.get("/api/v1/jobs/" + job).json();
        assertThat(after.path("state").asString()).isEqualTo("SUCCEEDED");
        assertThat(after.path("tasks")).hasSize(1);
        assertThat(after.path("tasks").get(0).path("attempt").asInt()).isEqualTo(1);
        assertThat(api.get("/api/v1/jobs").json().path("total").asLong()).isEqualTo(1);
        assertThat(artifactsOf(api, job)).hasSize(1);
    }

    @Test
    @Order(8)
    void s3DownDuringUploadIsRetriedThenFailsCleanlyWithNoVisibleArtifact() throws Exception {
        ApiClient api = tenantWithFeather("s3-down");
        // warm the worker's model cache so that the only S3 traffic of the next job is the artifact upload
        assertThat(api.awaitJob(submit(api, RTN_JOB), Duration.ofSeconds(60)).path("state").asString()).isEqualTo("SUCCEEDED");
        stopS3();
        String job;
        JsonNode done;
        try {
            job = submit(api, """
                    {"modelId":"feather-3m","recipes":[{"method":"rtn","bits":8,"groupSize":32,"symmetric":true}]}""");
            done = api.awaitJob(job, Duration.ofSeconds(300)); // 2 attempts, each waiting out the outage for 40 s
        } finally {
            startS3();
        }
        assertThat(done.path("state").asString()).isEqualTo("FAILED");
        JsonNode task = done.path("tasks").get(0);
        assertThat(task.path("attempt").asInt()).isEqualTo(2);
        assertThat(done.path("error").asString()).contains("failed after 2 attempt(s)").contains("S3 put of artifacts/").contains("failed after 3 attempts");
        assertThat(artifactsOf(api, job)).isEmpty();
        assertThat(api.get("/api/v1/artifacts").json()).hasSize(1); // only the warm-up job's
    }

    /** Replaces the quantizer-workers by one that spends {@code delay} per block, so a test can act mid-task. */
    ConfigurableApplicationContext onlyQuantizer(String name, String delay) {
        for (ConfigurableApplicationContext c : platform.quantizers) c.close();
        platform.quantizers.clear();
        return platform.startQuantizer(name, Map.of("featherweight.worker.block-delay", delay));
    }

    /** Waits until some task of the job (the worker takes them in any order) has finished {@code block} blocks; returns that task. */
    static JsonNode awaitRunning(ApiClient api, String job, int block) throws Exception {
        for (int i = 0; i < 1200; i++) {
            for (JsonNode t : api.get("/api/v1/jobs/" + job).json().path("tasks"))
                if (t.path("state").asString().equals("RUNNING") && t.path("block").asInt() >= block || block == 0) return t;
            Thread.sleep(100);
        }
        throw new AssertionError("no task of " + job + " reached block " + block);
    }

    static double counter(ConfigurableApplicationContext service, String name, String... tags) {
        var c = service.getBean(MeterRegistry.class).find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    @Order(9)
    void cancelIsAFenceNoTaskStartsAfterItTheRunningOneStopsNoArtifactAndASecondCancelIs409() throws Exception {
        ApiClient api = tenantWithFeather("cancel-fence");
        ConfigurableApplicationContext slow = onlyQuantizer("quantizer-slow-cancel", "700ms");
        String job = submit(api, """
                {"modelId":"feather-3m","recipes":[{"method":"rtn","bits":4,"groupSize":32},{"method":"rtn","bits":8,"groupSize":32},
                 {"method":"rtn","bits":2,"groupSize":32}]}""");
        String running = awaitRunning(api, job, 1).path("id").asString();
        double cancelledBefore = counter(platform.jobService, "featherweight.jobs.finished", "state", "CANCELLED");
        double stoppedBefore = counter(slow, "featherweight.worker.task.stopped");

        java.time.Instant cancelAt = java.time.Instant.now();
        ApiClient.Response c = api.post("/api/v1/jobs/" + job + "/cancel", "");
        assertThat(c.status()).as(c.toString()).isEqualTo(202);
        // the answer comes after the fence is committed: the job is CANCELLED now, not eventually
        JsonNode right = api.get("/api/v1/jobs/" + job).json();
        assertThat(right.path("state").asString()).isEqualTo("CANCELLED");
        for (JsonNode t : right.path("tasks")) assertThat(t.path("state").asString()).isEqualTo("CANCELLED");

        // the running task stops at its next block boundary (it had 6 blocks of 0.7 s to go)
        for (int i = 0; i < 300 && counter(slow, "featherweight.worker.task.stopped") == stoppedBefore; i++) Thread.sleep(100);
        assertThat(counter(slow, "featherweight.worker.task.stopped")).isEqualTo(stoppedBefore + 1);
        // the queued tasks never started (their messages reach the free worker, which may not claim them)
        for (int i = 0; i < 100 && counter(slow, "featherweight.worker.task.skipped") < 2; i++) Thread.sleep(100);
        assertThat(counter(slow, "featherweight.worker.task.skipped")).isGreaterThanOrEqualTo(2);
        JsonNode after = api.get("/api/v1/jobs/" + job).json();
        assertThat(after.path("state").asString()).isEqualTo("CANCELLED");
        for (JsonNode t : after.path("tasks")) {
            assertThat(t.path("state").asString()).isEqualTo("CANCELLED");
            // none started after the cancel (on a loaded machine one may have started and lost its lease before it)
            if (!t.path("id").asString().equals(running) && !t.path("startedAt").isNull())
                assertThat(java.time.Instant.parse(t.path("startedAt").asString())).as(t.toString()).isBefore(cancelAt);
        }
        assertThat(artifactsOf(api, job)).isEmpty();
        ApiClient registry = internalRegistry();
        assertThat(registry.get("/internal/tasks/" + running + "/artifact").status()).isEqualTo(404);

        ApiClient.Response again = api.post("/api/v1/jobs/" + job + "/cancel", "");
        assertThat(again.status()).as(again.toString()).isEqualTo(409);
        assertThat(again.json().path("detail").asString()).contains("already CANCELLED");
        assertThat(counter(platform.jobService, "featherweight.jobs.finished", "state", "CANCELLED")).isEqualTo(cancelledBefore + 1);

        String done = submit(api, RTN_JOB);
        assertThat(api.awaitJob(done, Duration.ofSeconds(60)).path("state").asString()).isEqualTo("SUCCEEDED");
        ApiClient.Response finished = api.post("/api/v1/jobs/" + done + "/cancel", "");
        assertThat(finished.status()).isEqualTo(409);
        assertThat(api.get("/api/v1/jobs/" + done).json().path("state").asString()).isEqualTo("SUCCEEDED");
        onlyQuantizer("quantizer-3", "0ms");
    }

    @Test
    @Order(10)
    void theRegistryRefusesToCompleteAnArtifactOfACancelledJobAndLeavesNoBlob() throws Exception {
        ApiClient api = tenantWithFeather("cancel-registry");
        onlyQuantizer("quantizer-slow-registry", "700ms");
        String job = submit(api, """
                {"modelId":"feather-3m","recipes":[{"method":"rtn","bits":4,"groupSize":32},{"method":"rtn","bits":8,"groupSize":32}]}""");
        String running = awaitRunning(api, job, 1).path("id").asString();
        String queued = running.equals(job + "-q0") ? job + "-q1" : job + "-q0";
        String tenantId = api.get("/api/v1/jobs/" + job).json().path("tenantId").asString();
        assertThat(api.post("/api/v1/jobs/" + job + "/cancel", "").status()).isEqualTo(202);
        // a worker that missed the cancel: creates the artifact of the queued task, uploads its file, asks to complete it
        ApiClient registry = internalRegistry();
        ApiClient.Response created = registry.post("/internal/artifacts", Map.of("tenantId", tenantId, "taskId", queued, "jobId", job,
                "modelName", "feather-3m", "method", "rtn", "bits", 8, "label", "rtn int8 g32", "recipe", "{}", "kernelsVersion", "late worker"));
        assertThat(created.status()).as(created.toString()).isEqualTo(200);
        String artifact = created.json().path("id").asString();
        byte[] content = "late bytes".getBytes();
        String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(content));
        ApiClient.Response put = registry.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(registry.base() + "/internal/artifacts/" + artifact
                + "/files?path=model.bin")).header("X-Sha256", sha).PUT(java.net.http.HttpRequest.BodyPublishers.ofByteArray(content)));
        assertThat(put.status()).as(put.toString()).isEqualTo(200);
        Path s3 = platform.dataDir().resolve("s3");
        try (var files = Files.walk(s3)) {
            assertThat(files.filter(f -> f.toString().contains(artifact)).filter(Files::isRegularFile).count()).isEqualTo(1);
        }
        ApiClient.Response complete = registry.post("/internal/artifacts/" + artifact + "/complete", Map.of("model.bin", sha));
        assertThat(complete.status()).as(complete.toString()).isEqualTo(409);
        assertThat(complete.json().path("detail").asString()).contains("is CANCELLED");
        assertThat(registry.get("/internal/tasks/" + queued + "/artifact").status()).isEqualTo(404);
        try (var files = Files.walk(s3)) {
            assertThat(files.filter(f -> f.toString().contains(artifact)).filter(Files::isRegularFile).toList()).isEmpty();
        }
        assertThat(artifactsOf(api, job)).isEmpty();
        onlyQuantizer("quantizer-4", "0ms");
    }

    @Test
    @Order(11)
    void aModelThatCannotBeReadFailsAtOnceWithTheReasonNotRetried() throws Exception {
        ApiClient api = tenant("corrupt-model");
        Path broken = Files.createTempDirectory("fw-broken-model");
        Files.copy(FEATHER.resolve("config.json"), broken.resolve("config.json")); // a valid config: the gateway accepts the job
        Files.write(broken.resolve("model.safetensors"), "this is not a safetensors file".getBytes());
        ApiClient.Response up = api.uploadModel("broken", broken);
        assertThat(up.status()).as(up.toString()).isEqualTo(201);
        String job = submit(api, """
                {"modelId":"broken","recipes":[{"method":"rtn","bits":4,"groupSize":32,"symmetric":true}]}""");
        JsonNode done = api.awaitJob(job, Duration.ofSeconds(60));
        assertThat(done.path("state").asString()).isEqualTo("FAILED");
        assertThat(done.path("tasks").get(0).path("attempt").asInt()).isEqualTo(1); // another attempt would read the same bytes
        assertThat(done.path("error").asString()).contains("failed after 1 attempt(s)").contains("model.safetensors is corrupt");
    }

    @Test
    @Order(12)
    void capacityAtAContextLongerThanTheModelsPositionsFailsTheEvalWithTheReason() throws Exception {
        ApiClient api = tenantWithFeather("long-context");
        String job = submit(api, """
                {"modelId":"feather-3m","recipes":[{"method":"gguf","fileType":"Q8_0"}],
                 "eval":{"capacity":{"gpus":["L4"],"ctx":2048,"kvDtype":"fp16"}}}""");
        JsonNode done = api.awaitJob(job, Duration.ofSeconds(60));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("FAILED");
        JsonNode eval = done.path("tasks").get(1);
        assertThat(eval.path("kind").asString()).isEqualTo("EVAL");
        assertThat(eval.path("attempt").asInt()).isEqualTo(1);
        assertThat(done.path("error").asString()).contains("capacity at ctx 2048: the model has only 512 positions");
    }

    static long blobsUnder(Path s3, String prefix) throws Exception {
        try (var files = Files.walk(s3)) {
            return files.filter(Files::isRegularFile).filter(f -> f.toString().contains(prefix)).count();
        }
    }

    @Test
    @Order(13)
    void aFailedUploadLeavesNothingAModelInUseCannotBeDeletedAnUnusedOneCanAndItsNameIsFreeAgain() throws Exception {
        ApiClient api = tenant("model-lifecycle");
        Path s3 = platform.dataDir().resolve("s3");
        // an upload that fails half-way (one stored file, then a refused path): nothing stays, the name is free
        Path bad = Files.createTempDirectory("fw-bad-upload");
        Files.copy(FEATHER.resolve("config.json"), bad.resolve("config.json"));
        Files.writeString(bad.resolve("not allowed!.txt"), "x");
        ApiClient.Response failed = api.uploadModel("lifecycle", bad);
        assertThat(failed.status()).as(failed.toString()).isEqualTo(400);
        assertThat(api.get("/api/v1/models/lifecycle").status()).isEqualTo(404);
        ApiClient.Response up = api.uploadModel("lifecycle", FEATHER);
        assertThat(up.status()).as(up.toString()).isEqualTo(201);
        String tenantId = up.json().path("tenantId").asString();
        assertThat(blobsUnder(s3, "models/" + tenantId + "/lifecycle/")).isGreaterThan(0);

        onlyQuantizer("quantizer-slow-models", "700ms");
        String job = submit(api, """
                {"modelId":"lifecycle","recipes":[{"method":"rtn","bits":4,"groupSize":32}]}""");
        awaitRunning(api, job, 0); // the job-service has planned it
        ApiClient.Response inUse = api.delete("/api/v1/models/lifecycle");
        assertThat(inUse.status()).as(inUse.toString()).isEqualTo(409);
        assertThat(inUse.json().path("detail").asString()).contains("is used by 1");
        assertThat(api.post("/api/v1/jobs/" + job + "/cancel", "").status()).isEqualTo(202);
        ApiClient.Response deleted = api.delete("/api/v1/models/lifecycle");
        assertThat(deleted.status()).as(deleted.toString()).isEqualTo(204);
        assertThat(api.get("/api/v1/models/lifecycle").status()).isEqualTo(404);
        assertThat(blobsUnder(s3, "models/" + tenantId + "/lifecycle/")).isZero();
        assertThat(api.delete("/api/v1/models/lifecycle").status()).isEqualTo(404);
        assertThat(api.uploadModel("lifecycle", FEATHER).status()).isEqualTo(201);
        onlyQuantizer("quantizer-5", "0ms");

        // an upload abandoned after the model was created (its gateway died): removed after the upload timeout
        ApiClient registry = internalRegistry();
        assertThat(registry.post("/internal/tenants/" + tenantId + "/models", Map.of("name", "abandoned", "source", "upload")).status()).isEqualTo(201);
        assertThat(api.get("/api/v1/models/abandoned").json().path("state").asString()).isEqualTo("UPLOADING");
        for (int i = 0; i < 600 && api.get("/api/v1/models/abandoned").status() == 200; i++) Thread.sleep(100);
        assertThat(api.get("/api/v1/models/abandoned").status()).isEqualTo(404);
        assertThat(api.uploadModel("abandoned", FEATHER).status()).isEqualTo(201);
    }

    @Test
    @Order(14)
    void s3UnavailableFor30SecondsDuringTheUploadIsWaitedOutAndTheJobSucceeds() throws Exception {
        ApiClient api = tenantWithFeather("s3-blip");
        // warm the worker's model cache so that the only S3 traffic of the next job is the artifact upload
        assertThat(api.awaitJob(submit(api, RTN_JOB), Duration.ofSeconds(60)).path("state").asString()).isEqualTo("SUCCEEDED");
        stopS3();
        Thread restart = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(30_000);
                startS3();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        String job = submit(api, """
                {"modelId":"feather-3m","recipes":[{"method":"rtn","bits":8,"groupSize":32,"symmetric":true}]}""");
        JsonNode done = api.awaitJob(job, Duration.ofSeconds(300));
        restart.join();
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("SUCCEEDED");
        JsonNode artifacts = artifactsOf(api, job);
        assertThat(artifacts).hasSize(1);
        String id = artifacts.get(0).path("id").asString();
        assertThat(blobsUnder(platform.dataDir().resolve("s3"), id)).isEqualTo(artifacts.get(0).path("files").size());
        assertThat(api.get("/api/v1/artifacts/" + id + "/download?path=model.bin").status()).isEqualTo(200);
    }

    @Test
    @Order(15)
    void kafkaStoppedAndStartedAgainMidJobTheJobStillFinishesWithOneArtifactPerRecipe() throws Exception {
        ApiClient api = tenantWithFeather("kafka-restart");
        onlyQuantizer("quantizer-slow-kafka", "700ms");
        String job = submit(api, """
                {"modelId":"feather-3m","recipes":[{"method":"rtn","bits":4,"groupSize":32},{"method":"rtn","bits":8,"groupSize":32}]}""");
        awaitRunning(api, job, 1);
        // the broker gone for 10 s mid-task, with the second task's TaskAssigned waiting in its log: it comes back
        // on the same port and the same log, and every client of the services reconnects by itself
        stopKafka();
        Thread.sleep(10_000);
        startKafka();
        JsonNode done = api.awaitJob(job, Duration.ofSeconds(300));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("SUCCEEDED");
        for (JsonNode t : done.path("tasks")) assertThat(t.path("state").asString()).isEqualTo("SUCCEEDED");
        JsonNode artifacts = artifactsOf(api, job);
        assertThat(artifacts).hasSize(2);
        for (JsonNode a : artifacts)
            assertThat(blobsUnder(platform.dataDir().resolve("s3"), a.path("id").asString())).isEqualTo(a.path("files").size());
        onlyQuantizer("quantizer-7", "0ms");
    }

    @Test
    @Order(16)
    void postgresStoppedAndStartedAgainMidJobTheJobStillFinishesWithOneArtifactPerRecipe() throws Exception {
        ApiClient api = tenantWithFeather("pg-restart");
        onlyQuantizer("quantizer-slow-pg", "700ms");
        String job = submit(api, """
                {"modelId":"feather-3m","recipes":[{"method":"rtn","bits":4,"groupSize":32},{"method":"rtn","bits":8,"groupSize":32}]}""");
        awaitRunning(api, job, 1);
        io.zonky.test.db.postgres.embedded.EmbeddedPostgres pg = platform.infra.getBean(io.zonky.test.db.postgres.embedded.EmbeddedPostgres.class);
        int port = pg.getPort();
        pg.close(); // both databases gone for 10 s, mid-task, with the second task queued
        Thread.sleep(10_000);
        try (var again = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().setDataDirectory(platform.dataDir().resolve("postgres"))
                .setCleanDataDirectory(false).setPort(port).setServerConfig("max_connections", "100").start()) {
            JsonNode done = api.awaitJob(job, Duration.ofSeconds(300));
            assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("SUCCEEDED");
            for (JsonNode t : done.path("tasks")) assertThat(t.path("state").asString()).isEqualTo("SUCCEEDED");
            JsonNode artifacts = artifactsOf(api, job);
            assertThat(artifacts).hasSize(2);
            for (JsonNode a : artifacts)
                assertThat(blobsUnder(platform.dataDir().resolve("s3"), a.path("id").asString())).isEqualTo(a.path("files").size());
            onlyQuantizer("quantizer-6", "0ms");
        }
    }

    /** The registry's internal API, as another service calls it: with the deployment's service credential. */
    private ApiClient internalRegistry() {
        return new ApiClient("http://127.0.0.1:" + platform.port(platform.registry), null)
                .withHeader(dev.featherweight.servicesecurity.ServiceCredential.HEADER, platform.serviceCredential());
    }
}
