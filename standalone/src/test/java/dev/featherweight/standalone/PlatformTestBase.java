package dev.featherweight.standalone;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Starts the whole platform once per test class on embedded Kafka, PostgreSQL and S3. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PlatformTestBase {
    static final String ADMIN_KEY = "test-admin-key";
    static final Path REPO = Path.of(System.getProperty("fw.repo.root", "..")).toAbsolutePath().normalize();
    static final Path FEATHER = REPO.resolve("models/feather-3m");

    Platform platform;
    ApiClient admin;

    /** Overrides for this class's platform (short leases for the failure tests). */
    Map<String, String> overrides() {
        return Map.of("featherweight.jobs.lease", "3s", "featherweight.jobs.lease-sweep", "300ms", "featherweight.jobs.outbox-poll", "50ms",
                "featherweight.jobs.retry-backoff", "300ms", "featherweight.jobs.reoffer-sweep", "200ms");
    }

    Map<String, Object> sharedBeans() {
        return Map.of();
    }

    @BeforeAll
    void startPlatform() throws Exception {
        Path data = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "fw-platform-");
        platform = start(data);
        admin = new ApiClient(platform.gatewayUrl(), ADMIN_KEY);
    }

    /** The embedded variant; the Testcontainers variant overrides this and the S3 hooks. */
    Platform start(Path data) throws Exception {
        int s3Port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            s3Port = socket.getLocalPort(); // fixed, so a test can stop and restart S3 on the same endpoint
        }
        return Platform.start(new Platform.Options(data, 0, s3Port, ADMIN_KEY, overrides(), sharedBeans()));
    }

    String kafkaBootstrap() {
        return platform.infra.getBean(EmbeddedKafka.class).bootstrapServers();
    }

    void stopKafka() throws Exception {
        platform.infra.getBean(EmbeddedKafka.class).stop();
    }

    /** Starts the broker again on the same port and log. */
    void startKafka() throws Exception {
        platform.infra.getBean(EmbeddedKafka.class).start();
    }

    void stopS3() throws Exception {
        platform.infra.getBean(org.gaul.s3proxy.S3Proxy.class).stop();
    }

    void startS3() throws Exception {
        platform.infra.getBean(org.gaul.s3proxy.S3Proxy.class).start();
    }

    @AfterAll
    void stopPlatform() {
        if (platform != null) platform.close();
    }

    /** A new tenant and a client with its key. */
    ApiClient tenant(String name) throws Exception {
        ApiClient.Response r = admin.post("/api/v1/admin/tenants", Map.of("name", name));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return admin.withKey(r.json().path("apiKey").asString());
    }

    ApiClient tenantWithFeather(String name) throws Exception {
        ApiClient api = tenant(name);
        ApiClient.Response up = api.uploadModel("feather-3m", FEATHER);
        assertThat(up.status()).as(up.toString()).isEqualTo(201);
        assertThat(up.json().path("state").asString()).isEqualTo("READY");
        return api;
    }

    static String submit(ApiClient api, String jobJson, String... headers) throws Exception {
        ApiClient.Response r = api.post("/api/v1/jobs", jobJson, headers);
        assertThat(r.status()).as(r.toString()).isEqualTo(202);
        assertThat(r.header("Location")).isEqualTo("/api/v1/jobs/" + r.json().path("jobId").asString());
        return r.json().path("jobId").asString();
    }

    static JsonNode artifactsOf(ApiClient api, String jobId) throws Exception {
        ApiClient.Response r = api.get("/api/v1/artifacts?job=" + jobId);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        return r.json();
    }
}
