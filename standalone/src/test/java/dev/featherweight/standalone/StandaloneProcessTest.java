package dev.featherweight.standalone;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The launcher as a user runs it: {@link Standalone#main} in a real child JVM (ProcessBuilder, the test
 * classpath), killed with SIGKILL mid-job and started again on the same data dir. A second instance on the
 * same data dir and an instance on a taken port are refused at once with a message; after the SIGKILL the
 * dead instance's PostgreSQL is stopped and the job finishes: every task SUCCEEDED, one artifact per recipe,
 * no orphan blob, and Kafka's log is the killed instance's; SIGTERM with a job running and an SSE stream
 * open stops the platform and its PostgreSQL within seconds and logs no ERROR. The real kernels run,
 * slowed per block so that the kill lands mid-task.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneProcessTest {
    static final Path REPO = PlatformTestBase.REPO;
    final List<Process> started = new ArrayList<>();
    Path work;
    Path data;
    int port;
    Process first;
    String job;

    record Child(Process process, Path out, Path err) {
        String stdout() throws IOException {
            return Files.readString(out);
        }

        String stderr() throws IOException {
            return Files.readString(err);
        }

        /** Waits until stdout shows the line a user waits for; fails with the child's stderr if it exits first. */
        Child awaitRunning() throws Exception {
            for (int i = 0; i < 6000; i++) {
                if (stdout().contains("Featherweight is running")) return this;
                if (!process.isAlive()) throw new AssertionError("exited " + process.exitValue() + ": " + stderr());
                Thread.sleep(100);
            }
            throw new AssertionError("not running after 10 min: " + stderr());
        }
    }

    Child launch(String name, Path dataDir, int gatewayPort, String... jvmOptions) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx768m",
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dfw.repo.root=" + REPO));
        cmd.addAll(List.of(jvmOptions));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Standalone.class.getName(), "--data-dir=" + dataDir, "--port=" + gatewayPort));
        Path out = work.resolve(name + ".out"), err = work.resolve(name + ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        started.add(p);
        return new Child(p, out, err);
    }

    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    ApiClient api() throws IOException {
        return new ApiClient("http://localhost:" + port, Files.readString(data.resolve("demo-api-key")).trim());
    }

    long postmasterPid() throws IOException {
        return Long.parseLong(Files.readAllLines(data.resolve("postgres/postmaster.pid")).getFirst().trim());
    }

    @Test
    @Order(1)
    void aSecondInstanceOnTheSameDataDirOrPortIsRefusedAtOnceWithAMessage() throws Exception {
        work = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "fw-process-");
        data = work.resolve("data");
        port = freePort();
        // 1 s per block: GPTQ of feather-3m (4 blocks, each reported) runs for 4 s or more
        Child a = launch("first", data, port, "-Dfeatherweight.worker.block-delay=1s").awaitRunning();
        first = a.process();

        Child sameDir = launch("same-dir", data, freePort());
        assertThat(sameDir.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(sameDir.process().exitValue()).isEqualTo(1);
        assertThat(sameDir.stderr()).contains("another featherweight is already running on data dir " + data)
                .contains("(pid " + first.pid() + ")");

        Child samePort = launch("same-port", work.resolve("other-data"), port);
        assertThat(samePort.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(samePort.process().exitValue()).isEqualTo(3);
        assertThat(samePort.stderr()).contains("port " + port + " is already in use");
        assertThat(first.isAlive()).isTrue();
    }

    @Test
    @Order(2)
    void killedWithSigkillMidJobItRestartsOnItsDataDirAndFinishesEveryTask() throws Exception {
        ApiClient api = api();
        job = PlatformTestBase.submit(api, """
                {"modelId":"feather-3m","recipes":[
                  {"method":"gptq","bits":4,"groupSize":128,"descAct":false,"damp":0.01,"calibrationSamples":8,"calibrationSeqLen":64,"symmetric":true},
                  {"method":"gguf","fileType":"Q8_0"},{"method":"gguf","fileType":"Q4_0"}]}""");
        // the GPTQ task is the one that reports blocks (GGUF reports once, at its end)
        for (int i = 0; i < 6000 && api.get("/api/v1/jobs/" + job).json().path("tasks").path(0).path("block").asInt() < 1; i++) Thread.sleep(100);
        assertThat(api.get("/api/v1/jobs/" + job).json().path("tasks").get(0).path("state").asString()).isEqualTo("RUNNING");
        long postgres = postmasterPid();
        String kafkaCluster = kafkaClusterId();
        first.destroyForcibly(); // SIGKILL: no shutdown hook runs
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(ProcessHandle.of(postgres).map(ProcessHandle::isAlive).orElse(false)).as("the dead JVM's PostgreSQL").isTrue();

        Child again = launch("restarted", data, port, "-Dfeatherweight.worker.block-delay=1s").awaitRunning(); // the SIGTERM below lands mid-job
        assertThat(again.stderr()).contains("stopped PostgreSQL (pid " + postgres + ")");
        assertThat(kafkaClusterId()).as("Kafka's log is the one of the killed instance").isEqualTo(kafkaCluster);
        JsonNode done = api.awaitJob(job, Duration.ofMinutes(5));
        assertThat(done.path("state").asString()).as(done.toString()).isEqualTo("SUCCEEDED");
        for (JsonNode t : done.path("tasks")) assertThat(t.path("state").asString()).isEqualTo("SUCCEEDED");
        JsonNode artifacts = PlatformTestBase.artifactsOf(api, job);
        assertThat(artifacts).hasSize(3);
        long files = 0;
        for (JsonNode a : artifacts) files += a.path("files").size();
        try (var blobs = Files.walk(data.resolve("s3"))) { // every artifact blob belongs to a visible artifact
            List<Path> stored = blobs.filter(Files::isRegularFile).filter(p -> p.toString().contains(File.separator + "artifacts" + File.separator)).toList();
            assertThat(stored).hasSize((int) files);
            for (JsonNode a : artifacts)
                assertThat(stored.stream().filter(p -> p.toString().contains(a.path("id").asString())).count()).isEqualTo(a.path("files").size());
        }

        // SIGTERM while a client follows a job's events (an SSE stream never ends by itself) and a job runs
        String running = PlatformTestBase.submit(api, """
                {"modelId":"feather-3m","recipes":[{"method":"gptq","bits":4,"groupSize":128,"descAct":false,"damp":0.01,"calibrationSamples":8,"calibrationSeqLen":64,"symmetric":true}]}""");
        // the 202 comes with Kafka's acknowledgement; the job-service knows the job (and SSE serves it) a moment later
        for (int i = 0; i < 600 && api.get("/api/v1/jobs/" + running).status() != 200; i++) Thread.sleep(100);
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        var events = http.sendAsync(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + port + "/api/v1/jobs/" + running + "/events"))
                .header("Authorization", "Bearer " + Files.readString(data.resolve("demo-api-key")).trim()).build(),
                java.net.http.HttpResponse.BodyHandlers.ofLines());
        assertThat(events.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        long postgresNow = postmasterPid();
        Path log = data.resolve("featherweight.log");
        long logBefore = Files.size(log);
        long t0 = System.nanoTime();
        again.process().destroy(); // SIGTERM
        // the stop is bounded (a few seconds; Spring alone would wait 30 s for the open stream): hanging fails here
        assertThat(again.process().waitFor(30, TimeUnit.SECONDS)).as("exited within 30 s of SIGTERM").isTrue();
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(again.stderr()).contains("featherweight: stopping").contains("featherweight: stopped in");
        // the postmaster ends its last backends a moment after the stop request the JVM waited for: allowed a few seconds
        for (int i = 0; i < 150 && ProcessHandle.of(postgresNow).map(ProcessHandle::isAlive).orElse(false); i++) Thread.sleep(100);
        assertThat(ProcessHandle.of(postgresNow).map(ProcessHandle::isAlive).orElse(false)).as("PostgreSQL 15 s after the JVM's exit").isFalse();
        String stopLog;
        try (var in = Files.newInputStream(log)) {
            in.skipNBytes(logBefore);
            stopLog = new String(in.readAllBytes());
        }
        assertThat(stopLog).contains("servers stopped in"); // logging stayed up to the end of the stop
        assertThat(stopLog.lines().filter(l -> l.contains(" ERROR ")).toList()).as("ERROR lines logged while stopping").isEmpty();
        Files.writeString(Path.of("target", "sigterm-report.txt"), String.format(Locale.ROOT,
                "SIGTERM to exit: %.1f s wall; %s%n", seconds, again.stderr().lines().filter(l -> l.contains("stopped in")).findFirst().orElse("")));
    }

    String kafkaClusterId() throws IOException {
        java.util.Properties meta = new java.util.Properties();
        try (var in = Files.newInputStream(data.resolve("kafka/meta.properties"))) {
            meta.load(in);
        }
        return meta.getProperty("cluster.id");
    }

    @AfterAll
    void stopChildren() throws InterruptedException {
        for (Process p : started) if (p.isAlive()) p.destroy(); // SIGTERM: the child stops its PostgreSQL too
        for (Process p : started) if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly();
    }
}
