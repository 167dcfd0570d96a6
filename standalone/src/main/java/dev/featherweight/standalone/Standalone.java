package dev.featherweight.standalone;

import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * {@code bin/featherweight [--demo] [--data-dir=.fw-data] [--port=8080]}: the whole platform in this JVM
 * ({@code --load-benchmark[=N]}: see {@link LoadBenchmark}).
 * First start: creates the tenant "demo" with an API key and uploads the demo models of the repository's
 * models/ folder. {@code --demo}: runs the demo job and prints its result table. Runs until stopped.
 */
public final class Standalone {
    public static final String DEMO_JOB = """
            {"modelId":"feather-3m",
             "recipes":[{"method":"gguf","fileType":"Q4_K_M"},
                        {"method":"gptq","bits":4,"groupSize":128,"descAct":false,"damp":0.01,"calibrationSamples":32,"calibrationSeqLen":128,"symmetric":true}],
             "eval":{"perplexity":{"text":"demo-stories","ctx":128,"chunks":8},
                     "capacity":{"gpus":["L4","A100-40GB-PCIe","H100-80GB-SXM"],"ctx":512,"kvDtype":"fp16"}}}""";

    public static void main(String[] args) throws Exception {
        boolean demo = false;
        Path dataDir = Path.of(".fw-data");
        int port = 8080;
        for (String a : args) {
            if (a.equals("--demo")) demo = true;
            else if (a.startsWith("--data-dir=")) dataDir = Path.of(a.substring(11));
            else if (a.startsWith("--port=")) port = Integer.parseInt(a.substring(7));
            else if (a.startsWith("--load-benchmark")) {
                LoadBenchmark.run(a.contains("=") ? Integer.parseInt(a.substring(a.indexOf('=') + 1)) : 1000,
                        Path.of(System.getProperty("fw.repo.root", ".")).toAbsolutePath().normalize());
                System.exit(0);
            } else {
                System.err.println("usage: featherweight [--demo] [--data-dir=.fw-data] [--port=8080] | --load-benchmark[=1000]");
                System.exit(2);
            }
        }
        Path repo = Path.of(System.getProperty("fw.repo.root", ".")).toAbsolutePath().normalize();
        dataDir = dataDir.toAbsolutePath();
        Files.createDirectories(dataDir);
        DataDirGuard guard;
        try {
            guard = DataDirGuard.lock(dataDir); // held until this JVM exits (the kernel releases it even after kill -9)
            DataDirGuard.requireFreePort(port);
        } catch (DataDirGuard.Refused refused) {
            System.err.println("featherweight: " + refused.getMessage());
            System.exit(refused.exitCode);
            return;
        }
        Path stalePostgres = dataDir.resolve("postgres");
        DataDirGuard.stopStalePostgres(stalePostgres).ifPresent(pid -> System.err.println(
                "featherweight: stopped PostgreSQL (pid " + pid + ") left running on " + stalePostgres + " by an instance that did not stop cleanly"));
        // temp files of this instance (Tomcat, uploads, Kafka's log) live under the data dir, so a crashed instance's are found and removed
        System.setProperty("ot.epg.working-dir", Path.of(System.getProperty("java.io.tmpdir"), "embedded-pg").toString()); // PostgreSQL binaries stay shared
        System.setProperty("java.io.tmpdir", DataDirGuard.freshTempDir(dataDir).toString());
        // the console is for the URLs, the key and the demo table; the services log to a file
        System.setProperty("logging.file.name", dataDir.resolve("featherweight.log").toString());
        System.setProperty("logging.threshold.console", "OFF");
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(ch.qos.logback.classic.Level.WARN);
        String adminKey = Platform.secret(dataDir.resolve("admin-key"), "fwadmin_");
        Map<String, String> settings = new java.util.HashMap<>(Map.of("featherweight.eval.texts-dir", repo.resolve("models").toString()));
        Path calibration = repo.resolve("models/demo-stories.txt"); // GPTQ/AWQ calibration text of the demo
        if (Files.exists(calibration)) settings.put("featherweight.worker.calibration", calibration.toString());
        // -Dfeatherweight.x=y sets any service setting (e.g. -Dfeatherweight.jobs.lease=60s)
        for (String name : System.getProperties().stringPropertyNames())
            if (name.startsWith("featherweight.")) settings.put(name, System.getProperty(name));
        // Kafka's test kit prints its storage formatting to System.out: keep the console for the summary
        java.io.PrintStream console = System.out;
        Platform platform;
        try (java.io.PrintStream quiet = new java.io.PrintStream(java.io.OutputStream.nullOutputStream())) {
            System.setOut(quiet);
            platform = Platform.start(new Platform.Options(dataDir, port, 0, adminKey, settings, Map.of()));
        } catch (Exception | Error failure) { // exit with the reason rather than hang on a thread a half-started server left
            System.setOut(console);
            System.err.println("featherweight: could not start: " + failure + " (details in " + dataDir.resolve("featherweight.log") + ")");
            System.exit(1);
            return;
        } finally {
            System.setOut(console);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("featherweight: stopping");
            long t0 = System.nanoTime();
            platform.close();
            System.err.printf("featherweight: stopped in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            try {
                guard.close();
            } catch (java.io.IOException ignored) {
                // the JVM exits now: the kernel releases the lock anyway
            }
            stopped.countDown();
        }));
        String url = platform.gatewayUrl();
        ApiClient api = new ApiClient(url, demoKey(platform, dataDir, repo, adminKey));
        System.out.printf("""

                Featherweight is running (data in %s)
                  Web UI      %s/  (sign in with the demo key)
                  API         %s/api/v1
                  Swagger UI  %s/swagger-ui.html
                  health      %s/actuator/health
                  demo key    %s
                  admin key   %s (creates tenants and keys)
                  logs        %s
                  try         curl -H 'Authorization: Bearer %s' %s/api/v1/models

                """, dataDir, url, url, url, url, api.key(), adminKey, dataDir.resolve("featherweight.log"), api.key(), url);
        if (demo) runDemo(api);
        System.out.println("Press Ctrl-C to stop.");
        stopped.await();
    }

    /** The demo tenant's key: created with the tenant at first start, kept in the data dir. */
    private static String demoKey(Platform platform, Path dataDir, Path repo, String adminKey) throws Exception {
        Path keyFile = dataDir.resolve("demo-api-key");
        if (Files.exists(keyFile)) return Files.readString(keyFile).trim();
        ApiClient admin = new ApiClient(platform.gatewayUrl(), adminKey);
        ApiClient.Response t = admin.post("/api/v1/admin/tenants", Map.of("name", "demo"));
        if (t.status() != 201) throw new IllegalStateException("creating the demo tenant: " + t);
        String key = t.json().path("apiKey").asString();
        ApiClient api = admin.withKey(key);
        for (String model : List.of("feather-3m", "stories260K")) {
            Path dir = repo.resolve("models").resolve(model);
            if (!Files.isDirectory(dir)) continue;
            ApiClient.Response r = api.uploadModel(model, dir);
            if (r.status() != 201) throw new IllegalStateException("uploading " + dir + ": " + r);
            System.err.println("featherweight: loaded demo model " + model);
        }
        Files.writeString(keyFile, key);
        return key;
    }

    static void runDemo(ApiClient api) throws Exception {
        System.out.println("Demo job: GGUF Q4_K_M and GPTQ 4-bit on feather-3m, perplexity on demo-stories and capacity on L4 / A100 / H100");
        ApiClient.Response r = api.post("/api/v1/jobs", DEMO_JOB);
        if (r.status() != 202) throw new IllegalStateException("submitting the demo job: " + r);
        String jobId = r.json().path("jobId").asString();
        System.out.println("submitted " + jobId + " → " + r.header("Location"));
        System.out.println("watch it live: " + api.base() + "/#/jobs/" + jobId + "  (then Compare: " + api.base() + "/#/compare?model=feather-3m)");
        JsonNode job = api.awaitJob(jobId, Duration.ofMinutes(30));
        System.out.println(table(api, job));
    }

    /** The job's result: one row per artifact with size, perplexity and capacity. */
    static String table(ApiClient api, JsonNode job) throws Exception {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "job %s: %s in %.1f s wall, %.3g s simulated GPU%n", job.path("id").asString(),
                job.path("state").asString(), job.path("wallSeconds").asDouble(), job.path("gpuSeconds").asDouble()));
        if (!job.path("error").isNull() && !job.path("error").asString().isEmpty()) out.append("  error: ").append(job.path("error").asString()).append('\n');
        JsonNode artifacts = api.get("/api/v1/artifacts?job=" + job.path("id").asString()).json();
        List<String> gpus = new ArrayList<>();
        for (JsonNode a : artifacts)
            for (String name : a.path("metrics").propertyNames())
                if (name.startsWith("capacity.") && name.contains(".max_sequences")) {
                    String gpu = name.substring(9, name.indexOf(".max_sequences"));
                    if (!gpus.contains(gpu)) gpus.add(gpu);
                }
        out.append(String.format(Locale.ROOT, "%-24s %12s %10s %10s %10s", "artifact", "bytes", "ppl base", "ppl", "Δppl"));
        for (String g : gpus) out.append(String.format(Locale.ROOT, " %16s", "seqs " + g));
        out.append('\n');
        for (JsonNode a : artifacts) {
            JsonNode m = a.path("metrics");
            out.append(String.format(Locale.ROOT, "%-24s %12d %10s %10s %10s", a.path("label").asString(), a.path("totalBytes").asLong(),
                    num(m, "perplexity_base"), num(m, "perplexity"), num(m, "perplexity_delta")));
            for (String g : gpus) {
                String key = m.propertyNames().stream().filter(n -> n.startsWith("capacity." + g + ".max_sequences")).findFirst().orElse(null);
                out.append(String.format(Locale.ROOT, " %16s", key == null ? "-" : String.valueOf(m.path(key).asLong())));
            }
            out.append('\n');
        }
        for (JsonNode t : job.path("tasks"))
            if (!t.path("error").isNull() && t.path("state").asString().equals("FAILED"))
                out.append("  ").append(t.path("label").asString()).append(": ").append(t.path("error").asString()).append('\n');
        return out.toString();
    }

    private static String num(JsonNode m, String key) {
        return m.has(key) ? String.format(Locale.ROOT, "%.4f", m.path(key).asDouble()) : "-";
    }

    private Standalone() {}
}
