package dev.featherweight.standalone;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * PostgreSQL is the source of truth for work: a platform stopped mid-job and started again on the same data
 * dir — on a broker that has none of the old messages — finishes every task of the job: the running one
 * (its lease expires, attempt 2 resumes) and the queued ones, whose TaskAssigned messages were lost with
 * the broker and are offered again from the tasks table at startup.
 */
class PlatformRestartTest {
    static final Path FEATHER = PlatformTestBase.FEATHER;

    Platform start(Path data, int s3Port, Map<String, String> extra) throws Exception {
        Map<String, String> overrides = new HashMap<>(Map.of("featherweight.jobs.lease", "3s", "featherweight.jobs.lease-sweep", "300ms",
                "featherweight.jobs.outbox-poll", "50ms", "featherweight.jobs.retry-backoff", "300ms", "featherweight.jobs.reoffer-sweep", "200ms"));
        overrides.putAll(extra);
        return Platform.start(new Platform.Options(data, 0, s3Port, PlatformTestBase.ADMIN_KEY, overrides, Map.of("quantizationEngine", new StubEngine())));
    }

    @Test
    void aPlatformStoppedMidJobComesBackOnItsDataDirAndFinishesTheRunningAndTheQueuedTasks() throws Exception {
        Path data = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "fw-restart-");
        int s3Port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            s3Port = socket.getLocalPort();
        }
        String job;
        String key;
        // one worker slot, 0.5 s per block: the first recipe runs, the other two wait in Kafka
        try (Platform first = start(data, s3Port, Map.of("featherweight.worker.block-delay", "500ms"))) {
            ApiClient admin = new ApiClient(first.gatewayUrl(), PlatformTestBase.ADMIN_KEY);
            ApiClient.Response t = admin.post("/api/v1/admin/tenants", Map.of("name", "restart"));
            assertThat(t.status()).isEqualTo(201);
            key = t.json().path("apiKey").asString();
            ApiClient api = admin.withKey(key);
            assertThat(api.uploadModel("feather-3m", FEATHER).status()).isEqualTo(201);
            job = PlatformTestBase.submit(api, """
                    {"modelId":"feather-3m","recipes":[{"method":"rtn","bits":4,"groupSize":32},{"method":"rtn","bits":8,"groupSize":32},
                     {"method":"gguf","fileType":"Q8_0"}]}""");
            PlatformMechanicsTest.awaitRunning(api, job, 1);
            JsonNode running = api.get("/api/v1/jobs/" + job).json();
            assertThat(running.path("tasks")).hasSize(3);
            List<String> states = new java.util.ArrayList<>();
            for (JsonNode task : running.path("tasks")) states.add(task.path("state").asString());
            assertThat(states).containsExactlyInAnyOrder("RUNNING", "ASSIGNED", "ASSIGNED");
        }
        // the broker's log is lost (a broker without persistent storage, or a new one): only PostgreSQL knows the work
        try (var kafkaLog = Files.walk(data.resolve("kafka"))) {
            kafkaLog.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
        try (Platform second = start(data, s3Port, Map.of())) {
            ApiClient api = new ApiClient(second.gatewayUrl(), key);
            JsonNode done = api.awaitJob(job, Duration.ofSeconds(120));
            assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("SUCCEEDED");
            for (JsonNode task : done.path("tasks")) assertThat(task.path("state").asString()).isEqualTo("SUCCEEDED");
            JsonNode artifacts = PlatformTestBase.artifactsOf(api, job);
            assertThat(artifacts).hasSize(3);
            // one blob per artifact file, none left over by the interrupted attempt
            try (var blobs = Files.walk(data.resolve("s3"))) {
                assertThat(blobs.filter(Files::isRegularFile).filter(p -> p.toString().contains("/artifacts/")).count()).isEqualTo(3);
            }
        }
    }
}
