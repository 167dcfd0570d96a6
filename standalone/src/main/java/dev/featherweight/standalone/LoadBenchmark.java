package dev.featherweight.standalone;

import tools.jackson.databind.JsonNode;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code bin/featherweight --load-benchmark[=1000]}: a benchmark, not a test. Starts a fresh platform on a
 * temporary data dir (real kernels), queues N jobs at once (GGUF Q8_0 of feather-3m, a cheap recipe,
 * all submitted concurrently), waits until every job is terminal and prints the submission latencies
 * (202 after Kafka's acknowledgement) and the time until the last job finished.
 */
public final class LoadBenchmark {
    static final String JOB = """
            {"modelId":"feather-3m","recipes":[{"method":"gguf","fileType":"Q8_0"}]}""";

    static void run(int jobs, Path repo) throws Exception {
        Path data = Files.createTempDirectory("fw-load-");
        System.setProperty("logging.file.name", data.resolve("featherweight.log").toString());
        System.setProperty("logging.threshold.console", "OFF");
        String adminKey = Platform.secret(data.resolve("admin-key"), "fwadmin_");
        java.io.PrintStream console = System.out;
        Platform platform;
        try (java.io.PrintStream quiet = new java.io.PrintStream(java.io.OutputStream.nullOutputStream())) {
            System.setOut(quiet);
            platform = Platform.start(new Platform.Options(data, 0, 0, adminKey, Map.of(), Map.of()));
        } finally {
            System.setOut(console);
        }
        try (platform) {
            ApiClient admin = new ApiClient(platform.gatewayUrl(), adminKey);
            ApiClient.Response tenant = admin.post("/api/v1/admin/tenants", Map.of("name", "load"));
            ApiClient api = admin.withKey(tenant.json().path("apiKey").asString());
            ApiClient.Response up = api.uploadModel("feather-3m", repo.resolve("models/feather-3m"));
            if (up.status() != 201) throw new IllegalStateException("upload: " + up);

            double loadBefore = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            long t0 = System.nanoTime();
            List<Future<long[]>> submissions = new ArrayList<>();
            List<String> ids = new ArrayList<>();
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < jobs; i++)
                    submissions.add(clients.submit((Callable<long[]>) () -> {
                        long s = System.nanoTime();
                        ApiClient.Response r = api.post("/api/v1/jobs", JOB);
                        long ms = (System.nanoTime() - s) / 1_000_000;
                        if (r.status() != 202) throw new IllegalStateException("submit: " + r);
                        synchronized (ids) {
                            ids.add(r.json().path("jobId").asString());
                        }
                        return new long[]{ms};
                    }));
            }
            long[] latency = new long[jobs];
            for (int i = 0; i < jobs; i++) latency[i] = submissions.get(i).get()[0];
            double submitted = (System.nanoTime() - t0) / 1e9;
            Map<String, Integer> states = new TreeMap<>();
            for (String id : ids) {
                JsonNode job = api.awaitJob(id, Duration.ofMinutes(60));
                states.merge(job.path("state").asString(), 1, Integer::sum);
            }
            double finished = (System.nanoTime() - t0) / 1e9;
            Arrays.sort(latency);
            System.out.printf(Locale.ROOT, """
                    load benchmark %s, %d cores, load average %.1f before / %.1f after
                      %d jobs (GGUF Q8_0 of feather-3m) queued at once: all submitted in %.1f s, all terminal after %.1f s: %s
                      submission latency ms: p50 %d, p90 %d, p99 %d, max %d
                    """, Instant.now(), Runtime.getRuntime().availableProcessors(), loadBefore,
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), jobs, submitted, finished, states,
                    pct(latency, 0.50), pct(latency, 0.90), pct(latency, 0.99), latency[jobs - 1]);
        }
    }

    private static long pct(long[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    private LoadBenchmark() {}
}
