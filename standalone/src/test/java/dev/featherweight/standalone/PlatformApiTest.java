package dev.featherweight.standalone;

import io.minio.BucketExistsArgs;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.UploadObjectArgs;
import org.gaul.s3proxy.S3Proxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The public API around jobs: uploads and imports, SSE, listing, cancel, artifacts, OpenAPI, probes and metrics. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PlatformApiTest extends PlatformTestBase {
    FakeHub hub;

    @Override
    Map<String, String> overrides() {
        try {
            hub = new FakeHub("org/feather", "v1", "hf_test_token", FEATHER);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        Map<String, String> m = new java.util.HashMap<>(super.overrides());
        m.put("featherweight.hf.url", hub.url());
        m.put("featherweight.worker.block-delay", "150ms");
        return m;
    }

    @Override
    Map<String, Object> sharedBeans() {
        return Map.of("quantizationEngine", new StubEngine());
    }

    @AfterAll
    void stopHub() {
        hub.close();
    }

    static Map<String, String> sha256s(Path folder) throws Exception {
        Map<String, String> m = new TreeMap<>();
        for (Path f : Archives.files(folder))
            m.put(f.getFileName().toString(), HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f))));
        return m;
    }

    static Map<String, String> sha256s(JsonNode model) {
        Map<String, String> m = new TreeMap<>();
        for (JsonNode f : model.path("files")) m.put(f.path("path").asString(), f.path("sha256").asString());
        return m;
    }

    MinioClient s3() {
        return MinioClient.builder().endpoint("http://127.0.0.1:" + platform.infra.getBean(S3Proxy.class).getPort())
                .credentials(EmbeddedInfra.S3_ACCESS_KEY, EmbeddedInfra.S3_SECRET_KEY).region("us-east-1").build();
    }

    @Test
    @Order(1)
    void modelsArriveIdenticallyFromFilesTarZipS3AndTheHub() throws Exception {
        ApiClient api = tenantWithFeather("uploads");
        Map<String, String> expected = sha256s(FEATHER);
        assertThat(sha256s(api.get("/api/v1/models/feather-3m").json())).isEqualTo(expected);

        ApiClient.Response tar = api.uploadArchive("from-tar", "feather-3m.tar", Archives.tar(FEATHER, "feather-3m"));
        assertThat(tar.status()).as(tar.toString()).isEqualTo(201);
        assertThat(sha256s(tar.json())).isEqualTo(expected);
        ApiClient.Response zip = api.uploadArchive("from-zip", "feather-3m.zip", Archives.zip(FEATHER, "feather-3m"));
        assertThat(zip.status()).as(zip.toString()).isEqualTo(201);
        assertThat(sha256s(zip.json())).isEqualTo(expected);
        assertThat(api.uploadArchive("from-rar", "feather-3m.rar", new byte[10]).status()).isEqualTo(415);

        MinioClient s3 = s3();
        if (!s3.bucketExists(BucketExistsArgs.builder().bucket("imports").build())) s3.makeBucket(MakeBucketArgs.builder().bucket("imports").build());
        for (Path f : Archives.files(FEATHER))
            s3.uploadObject(UploadObjectArgs.builder().bucket("imports").object("team/feather-3m/" + f.getFileName()).filename(f.toString()).build());
        // s3:// imports only from the tenant's import sources, which an administrator configures
        assertThat(api.post("/api/v1/models/import", Map.of("name", "from-s3", "source", "s3://imports/team/feather-3m")).status()).isEqualTo(400);
        String tenantId = api.get("/api/v1/tenant").json().path("id").asString();
        ApiClient.Response source = admin.send(java.net.http.HttpRequest.newBuilder(URI.create(admin.base() + "/api/v1/admin/tenants/" + tenantId + "/import-sources/imports"))
                .header("Content-Type", "application/json").PUT(java.net.http.HttpRequest.BodyPublishers.ofString(ApiClient.JSON.writeValueAsString(Map.of(
                        "endpoint", "http://127.0.0.1:" + platform.infra.getBean(S3Proxy.class).getPort(),
                        "accessKey", EmbeddedInfra.S3_ACCESS_KEY, "secretKey", EmbeddedInfra.S3_SECRET_KEY)))));
        assertThat(source.status()).as(source.toString()).isEqualTo(204);
        ApiClient.Response fromS3 = api.post("/api/v1/models/import", Map.of("name", "from-s3", "source", "s3://imports/team/feather-3m"));
        assertThat(fromS3.status()).as(fromS3.toString()).isEqualTo(201);
        assertThat(sha256s(fromS3.json())).isEqualTo(expected);
        assertThat(fromS3.json().path("source").asString()).isEqualTo("s3://imports/team/feather-3m");

        ApiClient.Response gated = api.post("/api/v1/models/import", Map.of("name", "from-hub-no-token", "source", "hf://org/feather@v1"));
        assertThat(gated.status()).isEqualTo(400);
        assertThat(gated.json().path("detail").asString()).contains("gated or private? pass a token");
        ApiClient.Response fromHub = api.post("/api/v1/models/import", Map.of("name", "from-hub", "source", "hf://org/feather@v1", "token", "hf_test_token"));
        assertThat(fromHub.status()).as(fromHub.toString()).isEqualTo(201);
        assertThat(sha256s(fromHub.json())).isEqualTo(expected);

        assertThat(api.get("/api/v1/models").json()).hasSize(5); // the refused import left nothing behind
        ApiClient.Response dup = api.uploadModel("feather-3m", FEATHER);
        assertThat(dup.status()).isEqualTo(409);
    }

    @Test
    @Order(2)
    void serverSentEventsFollowAJobToItsEnd() throws Exception {
        ApiClient api = tenantWithFeather("sse");
        String job = submit(api, """
                {"modelId":"feather-3m","recipes":[{"method":"rtn","bits":4,"groupSize":32,"symmetric":true},{"method":"rtn","bits":8,"groupSize":32,"symmetric":true}]}""");
        while (api.get("/api/v1/jobs/" + job).status() == 404) Thread.sleep(50);
        HttpRequest req = HttpRequest.newBuilder(URI.create(api.base() + "/api/v1/jobs/" + job + "/events"))
                .header("Authorization", "Bearer " + api.key()).header("Accept", "text/event-stream").build();
        HttpResponse<Stream<String>> r = HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofLines());
        assertThat(r.statusCode()).isEqualTo(200);
        List<String> events = new ArrayList<>();
        try (Stream<String> lines = r.body()) { // the stream ends when the job does
            lines.filter(l -> l.startsWith("event:") || l.startsWith("data:")).forEach(events::add);
        }
        assertThat(events.getFirst()).isEqualTo("event:snapshot");
        String last = events.getLast();
        assertThat(last).contains("\"type\":\"JobStateChanged\"").contains("\"state\":\"SUCCEEDED\"").contains("\"taskId\":null");
        assertThat(api.awaitJob(job, Duration.ofSeconds(30)).path("state").asString()).isEqualTo("SUCCEEDED");
        assertThat(api.withKey("fw_nobody").get("/api/v1/jobs/" + job + "/events").status()).isEqualTo(401);
    }

    @Test
    @Order(3)
    void jobsAreListedNewestFirstWithFiltersAndPages() throws Exception {
        ApiClient api = tenantWithFeather("listing");
        List<String> jobs = new ArrayList<>();
        for (int i = 0; i < 3; i++) jobs.add(submit(api, PlatformMechanicsTest.RTN_JOB));
        for (String j : jobs) assertThat(api.awaitJob(j, Duration.ofSeconds(60)).path("state").asString()).isEqualTo("SUCCEEDED");
        JsonNode page0 = api.get("/api/v1/jobs?size=2&page=0").json();
        JsonNode page1 = api.get("/api/v1/jobs?size=2&page=1").json();
        assertThat(page0.path("total").asLong()).isEqualTo(3);
        assertThat(page0.path("items")).hasSize(2);
        assertThat(page1.path("items")).hasSize(1);
        assertThat(page0.path("items").get(0).path("id").asString()).isEqualTo(jobs.get(2));
        assertThat(page1.path("items").get(0).path("id").asString()).isEqualTo(jobs.get(0));
        assertThat(api.get("/api/v1/jobs?state=SUCCEEDED&model=feather-3m").json().path("total").asLong()).isEqualTo(3);
        assertThat(api.get("/api/v1/jobs?state=FAILED").json().path("total").asLong()).isZero();
        assertThat(api.get("/api/v1/jobs?state=DONE").status()).isEqualTo(400);
        assertThat(api.get("/api/v1/jobs?size=1000").status()).isEqualTo(400);
        JsonNode one = api.get("/api/v1/jobs/" + jobs.get(0)).json();
        JsonNode task = one.path("tasks").get(0);
        assertThat(task.path("blocks").asInt()).isEqualTo(5);
        assertThat(task.path("gpuSeconds").asDouble()).isGreaterThan(0);
        assertThat(task.path("wallSeconds").asDouble()).isGreaterThan(0);
        assertThat(one.path("gpuSeconds").asDouble()).isEqualTo(task.path("gpuSeconds").asDouble());
        assertThat(api.get("/api/v1/artifacts?method=rtn&bits=4&model=feather-3m").json()).hasSize(3);
        assertThat(api.get("/api/v1/artifacts?bits=8").json()).isEmpty();
    }

    @Test
    @Order(4)
    void cancelStopsARunningJob() throws Exception {
        ApiClient api = tenantWithFeather("cancel");
        String job = submit(api, """
                {"modelId":"feather-3m","recipes":[{"method":"rtn","bits":4,"groupSize":32},{"method":"rtn","bits":8,"groupSize":32},
                 {"method":"rtn","bits":2,"groupSize":32},{"method":"rtn","bits":3,"groupSize":32}]}""");
        while (api.get("/api/v1/jobs/" + job).status() == 404) Thread.sleep(50);
        ApiClient.Response c = api.post("/api/v1/jobs/" + job + "/cancel", "");
        assertThat(c.status()).isEqualTo(202);
        JsonNode done = api.awaitJob(job, Duration.ofSeconds(60));
        assertThat(done.path("state").asString()).isEqualTo("CANCELLED");
        long cancelled = 0;
        for (JsonNode t : done.path("tasks")) if (t.path("state").asString().equals("CANCELLED")) cancelled++;
        assertThat(cancelled).isGreaterThanOrEqualTo(3); // one may have finished before the cancel arrived
    }

    @Test
    @Order(5)
    void artifactsDownloadPresignedAndDeleteRemovesTheirBlobs() throws Exception {
        ApiClient api = tenantWithFeather("artifacts");
        String job = submit(api, PlatformMechanicsTest.RTN_JOB);
        JsonNode done = api.awaitJob(job, Duration.ofSeconds(60));
        String id = done.path("tasks").get(0).path("artifactId").asString();
        byte[] streamed = api.get("/api/v1/artifacts/" + id + "/download?path=model.bin").body();
        ApiClient.Response redirect = api.get("/api/v1/artifacts/" + id + "/download?path=model.bin&presigned=true");
        assertThat(redirect.status()).isEqualTo(303);
        HttpResponse<byte[]> presigned = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(redirect.header("Location"))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(presigned.statusCode()).isEqualTo(200);
        assertThat(presigned.body()).isEqualTo(streamed);
        String tenantId = api.get("/api/v1/models/feather-3m").json().path("tenantId").asString();
        MinioClient s3 = s3();
        String prefix = "artifacts/" + tenantId + "/" + id + "/";
        assertThat(s3.listObjects(ListObjectsArgs.builder().bucket("featherweight").prefix(prefix).recursive(true).build())).hasSize(1);
        assertThat(api.delete("/api/v1/artifacts/" + id).status()).isEqualTo(204);
        assertThat(api.get("/api/v1/artifacts/" + id).status()).isEqualTo(404);
        assertThat(s3.listObjects(ListObjectsArgs.builder().bucket("featherweight").prefix(prefix).recursive(true).build())).isEmpty();
    }

    @Test
    @Order(6)
    void openApiProbesAndMetricsAreServed() throws Exception {
        ApiClient anonymous = admin.withKey(null);
        ApiClient.Response docs = anonymous.get("/v3/api-docs");
        assertThat(docs.status()).isEqualTo(200);
        assertThat(docs.json().path("paths").propertyNames()).contains("/api/v1/jobs", "/api/v1/jobs/{id}", "/api/v1/models",
                "/api/v1/models/import", "/api/v1/artifacts", "/api/v1/artifacts/{id}/download", "/api/v1/admin/tenants",
                "/api/v1/catalog", "/api/v1/catalog/estimate");
        assertThat(anonymous.get("/api/v1/catalog").status()).isEqualTo(401); // authenticated like every endpoint
        // typed responses: the records of contracts are schemas, submit documents its 202
        assertThat(docs.json().path("components").path("schemas").propertyNames())
                .contains("JobView", "JobPage", "TaskView", "Model", "Artifact", "FileInfo", "Accepted");
        assertThat(docs.json().path("paths").path("/api/v1/jobs").path("post").path("responses").propertyNames()).contains("202").doesNotContain("200");
        assertThat(docs.json().path("paths").path("/api/v1/jobs/{id}").path("get").path("responses").path("200").toString())
                .contains("#/components/schemas/JobView");
        assertThat(docs.json().path("paths").path("/api/v1/models/{name}").path("get").path("responses").path("200").toString())
                .contains("#/components/schemas/Model");
        assertThat(anonymous.get("/swagger-ui/index.html").status()).isEqualTo(200);
        assertThat(anonymous.get("/actuator/health/readiness").json().path("status").asString()).isEqualTo("UP");
        assertThat(anonymous.get("/actuator/prometheus").text()).contains("featherweight_gateway_submit_seconds");
        ApiClient jobs = new ApiClient("http://127.0.0.1:" + platform.port(platform.jobService), null);
        String prometheus = jobs.get("/actuator/prometheus").text();
        assertThat(prometheus).contains("featherweight_jobs{state=\"SUCCEEDED\"}").contains("featherweight_outbox_unpublished");
        ApiClient registry = new ApiClient("http://127.0.0.1:" + platform.port(platform.registry), null);
        assertThat(registry.get("/actuator/prometheus").text()).contains("featherweight_registry_bytes_stored_bytes_total");
        ApiClient worker = new ApiClient("http://127.0.0.1:" + platform.port(platform.quantizers.getFirst()), null);
        assertThat(worker.get("/actuator/prometheus").text()).contains("featherweight_worker_task_seconds_count{kind=\"QUANTIZE\",outcome=\"succeeded\"}");
        assertThat(anonymous.get("/api/v1/jobs").status()).isEqualTo(401);
        assertThat(anonymous.get("/api/v1/jobs").header("Content-Type")).startsWith("application/problem+json");
    }

    @Test
    @Order(7)
    void gpuCatalogAndSynchronousCapacity() throws Exception {
        ApiClient api = tenantWithFeather("capacity");
        JsonNode gpus = api.get("/api/v1/gpus").json();
        assertThat(gpus.findValuesAsString("name")).contains("A100-40GB-PCIe", "H100-80GB-SXM", "L4", "T4", "MI300X");
        ApiClient.Response r = api.post("/api/v1/capacity", Map.of("modelId", "feather-3m", "gpus", List.of("L4", "T4"), "ctx", 512, "kvDtype", "fp16"));
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        long weights = Files.size(FEATHER.resolve("model.safetensors"));
        assertThat(r.json().path("weightBytes").asLong()).isEqualTo(weights); // the uploaded model's real bytes reach the kernels
        JsonNode l4 = r.json().path("rows").get(0).path("report");
        assertThat(l4.path("gpu").asString()).isEqualTo("L4");
        assertThat(l4.path("weightsBytes").asLong()).isEqualTo(weights);
        assertThat(l4.path("kvBytesPerToken").asDouble()).isEqualTo(2.0 * 4 * 2 * 32 * 2); // K,V × 4 layers × 2 KV heads × 32 × fp16
        assertThat(l4.path("maxSequences").asLong()).isPositive();
        ApiClient.Response bad = api.post("/api/v1/capacity", Map.of("modelId", "feather-3m", "gpus", List.of("Voodoo2"), "ctx", 0, "kvDtype", "fp16"));
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().path("errors").toString()).contains("\"field\":\"ctx\",\"message\":\"0 is outside");
        ApiClient.Response unknownGpu = api.post("/api/v1/jobs", """
                {"modelId":"feather-3m","recipes":[{"method":"rtn","bits":4,"groupSize":32}],"eval":{"capacity":{"gpus":["Voodoo2"],"ctx":512,"kvDtype":"fp16"}}}""");
        assertThat(unknownGpu.status()).isEqualTo(400);
        assertThat(unknownGpu.json().path("errors").get(0).path("field").asString()).isEqualTo("eval.capacity.gpus[0]");
        assertThat(unknownGpu.json().path("errors").get(0).path("message").asString()).startsWith("'Voodoo2' is not in the GPU catalog");
        // a config.json the catalogue cannot read is the request's problem (400 problem+json), not the server's
        Path broken = Files.createTempDirectory("fw-broken");
        Files.writeString(broken.resolve("config.json"), "{\"hidden_size\": 256,");
        assertThat(api.uploadModel("broken-config", broken).status()).isEqualTo(201);
        ApiClient.Response malformed = api.post("/api/v1/capacity", Map.of("modelId", "broken-config", "gpus", List.of("L4"), "ctx", 512, "kvDtype", "fp16"));
        assertThat(malformed.status()).as(malformed.toString()).isEqualTo(400);
        assertThat(malformed.header("Content-Type")).startsWith("application/problem+json");
        assertThat(malformed.json().path("errors").get(0).path("field").asString()).isEqualTo("modelId");
        assertThat(malformed.json().path("errors").get(0).path("message").asString()).contains("config.json of broken-config is not valid JSON");
    }

    @Test
    @Order(8)
    void catalogueIsWhatFwCatalogPrintsAndThePreFlightEstimatesOnTheWorkersGpu() throws Exception {
        ApiClient api = tenantWithFeather("catalogue");
        ApiClient.Response catalogue = api.get("/api/v1/catalog");
        assertThat(catalogue.status()).as(catalogue.toString()).isEqualTo(200);
        java.io.StringWriter printed = new java.io.StringWriter();
        picocli.CommandLine fw = new picocli.CommandLine(new dev.featherweight.kernels.cli.Fw()).setOut(new java.io.PrintWriter(printed));
        assertThat(fw.execute("catalog", "--json")).isZero();
        assertThat(catalogue.json()).isEqualTo(tools.jackson.databind.json.JsonMapper.shared().readTree(printed.toString()));
        assertThat(catalogue.json().path("ggufFileTypes").findValuesAsString("name")).contains("Q4_K_M", "IQ4_XS", "IQ3_M", "IQ2_XXS", "IQ1_M", "TQ1_0").doesNotContain("IQ5_XS");

        // {"method":"gptq","bits":4} on feather-3m: GPTQModel's defaults, calibration capped to the model's 512 positions
        ApiClient.Response pre = api.post("/api/v1/catalog/estimate", """
                {"modelId":"feather-3m","recipe":{"method":"gptq","bits":4}}""");
        assertThat(pre.status()).as(pre.toString()).isEqualTo(200);
        JsonNode e = pre.json();
        assertThat(e.path("gpu").asString()).isEqualTo("A100-40GB-PCIe"); // the quantizer-worker's simulated GPU
        assertThat(e.path("deviceBytes").asLong()).isEqualTo(40_000_000_000L);
        assertThat(e.path("fits").asBoolean()).isTrue();
        assertThat(e.path("problems")).isEmpty();
        assertThat(e.path("resolved").path("groupSize").asInt()).isEqualTo(128);
        assertThat(e.path("resolved").path("calibrationSeqLen").asInt()).isEqualTo(512);
        // 128 × 512 calibration tokens × 256 hidden × fp32, in and out of the block
        assertThat(e.path("peakParts").path("calibration hidden states fp32").asLong()).isEqualTo(2L * 128 * 512 * 256 * 4);
        assertThat(e.path("peakDeviceBytes").asLong()).isGreaterThan(2L * 128 * 512 * 256 * 4);
        assertThat(e.path("outputBytes").asLong()).isPositive().isLessThan(Files.size(FEATHER.resolve("model.safetensors")));
        assertThat(e.path("estimatedSeconds").asDouble()).isPositive();

        ApiClient.Response tooBig = api.post("/api/v1/catalog/estimate", """
                {"modelId":"feather-3m","recipe":{"method":"gptq","calibrationSamples":1048576},"gpu":"T4"}""");
        assertThat(tooBig.json().path("gpu").asString()).isEqualTo("T4");
        assertThat(tooBig.json().path("fits").asBoolean()).isFalse();
        ApiClient.Response cannotRun = api.post("/api/v1/catalog/estimate", """
                {"modelId":"feather-3m","recipe":{"method":"gptq","damp":0.0,"groupSize":512}}""");
        assertThat(cannotRun.status()).isEqualTo(200);
        assertThat(cannotRun.json().path("problems").findValuesAsString("field")).containsExactly("recipe.damp");
        assertThat(cannotRun.json().path("fits").isNull()).isTrue();
        assertThat(api.post("/api/v1/catalog/estimate", """
                {"modelId":"no-such-model","recipe":{"method":"rtn"}}""").status()).isEqualTo(404);
        assertThat(api.post("/api/v1/catalog/estimate", """
                {"modelId":"feather-3m","recipe":{"method":"rtn"},"gpu":"Voodoo2"}""").status()).isEqualTo(400);
    }

    /**
     * Load: 500 submissions spread evenly over 10 s (open loop: each request starts on its schedule whatever
     * the earlier ones are doing). All must be accepted (202) and all must reach the job-service (none lost).
     * Latencies are reported (target/load-report.txt), not asserted.
     */
    @Test
    @Order(99)
    void fiveHundredSubmissionsInTenSecondsAreAllAcceptedAndNoneIsLost() throws Exception {
        ApiClient api = tenantWithFeather("load");
        String body = """
                {"modelId":"feather-3m","recipes":[{"method":"gptq","bits":4,"groupSize":128,"damp":0.01,"calibrationSamples":524288,"calibrationSeqLen":512}]}""";
        int n = 500;
        long periodNanos = Duration.ofSeconds(10).toNanos() / n;
        long[] latencies = new long[n];
        int[] statuses = new int[n];
        var pool = java.util.concurrent.Executors.newFixedThreadPool(64);
        long t0 = System.nanoTime();
        List<java.util.concurrent.Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            long start = t0 + k * periodNanos;
            futures.add(pool.submit(() -> {
                long wait = start - System.nanoTime();
                if (wait > 0) java.util.concurrent.locks.LockSupport.parkNanos(wait);
                long s0 = System.nanoTime();
                ApiClient.Response r = api.post("/api/v1/jobs", body);
                latencies[k] = System.nanoTime() - s0;
                statuses[k] = r.status();
                return null;
            }));
        }
        for (var f : futures) f.get();
        double wallSeconds = (System.nanoTime() - t0) / 1e9;
        pool.shutdown();
        assertThat(statuses).containsOnly(202);
        long known;
        do { // every accepted job reaches the job-service
            Thread.sleep(200);
            known = api.get("/api/v1/jobs?size=1").json().path("total").asLong();
        } while (known < n);
        assertThat(known).isEqualTo(n);
        long[] sorted = latencies.clone();
        java.util.Arrays.sort(sorted);
        String report = String.format(java.util.Locale.ROOT,
                "load: %d submissions in %.2f s (%.1f/s offered 50/s): all 202 and all %d known to the job-service; latency ms p50 %.1f, p90 %.1f, p99 %.1f, max %.1f (cores %d)%n",
                n, wallSeconds, n / wallSeconds, known, sorted[n / 2] / 1e6, sorted[n * 9 / 10] / 1e6, sorted[n * 99 / 100] / 1e6, sorted[n - 1] / 1e6,
                Runtime.getRuntime().availableProcessors());
        System.out.print(report);
        Files.writeString(Path.of("target/load-report.txt"), report);
    }
}
