package dev.featherweight.standalone;

import org.gaul.s3proxy.S3Proxy;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The platform as an attacker sees it (issue 10): one test per attack of the issue, plus tenant walls on every
 * resource, the internal APIs' service credential, key revocation, path traversal, and oversized and malformed
 * bodies. Every answer of the public API checked here is problem+json with a stable type and no internals.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PlatformSecurityTest extends PlatformTestBase {
    static final String PROBLEMS = "https://featherweight.dev/problems/";

    @Override
    Map<String, Object> sharedBeans() {
        return Map.of("quantizationEngine", new StubEngine());
    }

    /** The platform's own S3 endpoint under two names (the Testcontainers variant overrides this). */
    List<String> platformS3Endpoints() {
        int port = platform.infra.getBean(S3Proxy.class).getPort();
        return List.of("http://127.0.0.1:" + port, "http://localhost:" + port);
    }

    static String tenantId(ApiClient api) throws Exception {
        ApiClient.Response r = api.get("/api/v1/tenant");
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        return r.json().path("id").asString();
    }

    /** A problem+json answer of this status and kind, telling nothing about the code or the server behind it. */
    static JsonNode problem(ApiClient.Response r, int status, String kind) {
        assertThat(r.status()).as(r.toString()).isEqualTo(status);
        assertThat(r.header("Content-Type")).as(r.toString()).startsWith("application/problem+json");
        JsonNode p = r.json();
        assertThat(p.path("type").asString()).as(r.toString()).isEqualTo(PROBLEMS + kind);
        assertThat(p.path("status").asInt()).isEqualTo(status);
        assertThat(r.text()).doesNotContain("dev.featherweight", "java.", "tools.jackson", "springframework", "Exception", "/tmp/", "/work/", "<html");
        return p;
    }

    /** A caller of a service's internal port, with the given service credential (null: none). */
    record Internal(String base, String credential) {
        ApiClient.Response get(String path) throws Exception {
            return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
        }

        ApiClient.Response post(String path, Object body) throws Exception {
            return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(ApiClient.JSON.writeValueAsString(body))));
        }

        ApiClient.Response send(HttpRequest.Builder b) throws Exception {
            if (credential != null) b.header("X-Service-Credential", credential);
            var r = java.net.http.HttpClient.newHttpClient().send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            return new ApiClient.Response(r.statusCode(), r.headers().map(), r.body());
        }
    }

    Internal internal(org.springframework.context.ConfigurableApplicationContext service, String credential) {
        return new Internal("http://127.0.0.1:" + platform.port(service), credential);
    }

    static ApiClient.Response uploadFiles(ApiClient api, String name, Map<String, byte[]> files) throws Exception {
        String boundary = "fw" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" + f.getKey()
                    + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            body.write(f.getValue());
            body.write("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        body.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return api.send(HttpRequest.newBuilder(URI.create(api.base() + "/api/v1/models?name=" + name))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary).POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
    }

    // ---- the attack list ---------------------------------------------------------------------

    @Test
    @Order(1)
    void aTenantCannotImportAnotherTenantsModelFromThePlatformsOwnStore() throws Exception {
        ApiClient victim = tenantWithFeather("victim");
        ApiClient thief = tenant("thief");
        String victimId = tenantId(victim);
        ApiClient.Response stolen = thief.post("/api/v1/models/import",
                Map.of("name", "stolen", "source", "s3://featherweight/models/" + victimId + "/feather-3m"));
        problem(stolen, 400, "forbidden-import-source");
        assertThat(thief.get("/api/v1/models").json()).isEmpty();
        assertThat(thief.get("/api/v1/models/stolen").status()).isEqualTo(404);

        // nor can an administrator make the platform's store an import source, under any name of its endpoint
        String thiefId = tenantId(thief);
        for (String endpoint : platformS3Endpoints()) {
            ApiClient.Response source = admin.send(HttpRequest.newBuilder(URI.create(admin.base() + "/api/v1/admin/tenants/" + thiefId + "/import-sources/featherweight"))
                    .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(
                            "{\"endpoint\":\"" + endpoint + "\",\"accessKey\":\"" + EmbeddedInfra.S3_ACCESS_KEY + "\",\"secretKey\":\"" + EmbeddedInfra.S3_SECRET_KEY + "\"}")));
            problem(source, 400, "forbidden-import-source");
        }
        problem(thief.post("/api/v1/models/import", Map.of("name", "stolen", "source", "s3://featherweight/models/" + victimId + "/feather-3m")),
                400, "forbidden-import-source");
        // and the registry itself scopes reads by tenant: the victim's model under the thief's tenant is not there
        Internal registry = internal(platform.registry, platform.serviceCredential());
        assertThat(registry.get("/internal/tenants/" + thiefId + "/models/feather-3m").status()).isEqualTo(404);
        assertThat(registry.get("/internal/tenants/" + victimId + "/models/feather-3m").status()).isEqualTo(200);
    }

    @Test
    @Order(2)
    void internalApisRefuseCallersWithoutTheServiceCredential() throws Exception {
        ApiClient victim = tenant("minted");
        String tenant = tenantId(victim);
        String forgedKey = "fw_forged-admin-key";
        Map<String, Object> mint = Map.of("keyHash", sha256(forgedKey), "admin", true);
        for (String credential : new String[] {null, "wrong-credential-wrong-credential-wrong", platform.serviceCredential() + "x"}) {
            Internal registry = internal(platform.registry, credential);
            assertThat(registry.post("/internal/tenants/" + tenant + "/keys", mint).status()).isEqualTo(401);
            assertThat(registry.get("/internal/tenants").status()).isEqualTo(401);
            assertThat(registry.get("/internal/keys/" + sha256(forgedKey)).status()).isEqualTo(401);
            Internal jobs = internal(platform.jobService, credential);
            assertThat(jobs.get("/internal/jobs?tenant=" + tenant).status()).isEqualTo(401);
            assertThat(jobs.get("/internal/tasks/t-1").status()).isEqualTo(401);
            for (var worker : List.of(platform.quantizers.getFirst(), platform.evalWorker))
                assertThat(internal(worker, credential).get("/actuator/metrics").status()).isEqualTo(401);
        }
        assertThat(admin.withKey(forgedKey).get("/api/v1/admin/tenants").status()).isEqualTo(401); // nothing was minted
        assertThat(internal(platform.registry, platform.serviceCredential()).get("/internal/tenants").status()).isEqualTo(200);
        // the internal services listen on loopback only, and the credential is the deployment's own secret file
        for (var service : List.of(platform.registry, platform.jobService, platform.evalWorker, platform.quantizers.getFirst()))
            assertThat(service.getEnvironment().getProperty("server.address")).isEqualTo("127.0.0.1");
        assertThat(java.nio.file.Files.readString(platform.dataDir().resolve("service-credential")).trim()).isEqualTo(platform.serviceCredential());
    }

    @Test
    @Order(3)
    void aChunkedBodyOverTheLimitIsRefusedAndNothingIsStored() throws Exception {
        ApiClient api = tenantWithFeather("chunked");
        byte[] padding = ("{\"modelId\":\"feather-3m\",\"recipes\":[{\"method\":\"rtn\",\"bits\":4,\"groupSize\":32}],\"x\":\"" + "a".repeat(1 << 20) + "\"}") // 1 MB: over the limit, under what Tomcat swallows after an early answer
                .getBytes(StandardCharsets.UTF_8);
        ApiClient.Response r = api.send(HttpRequest.newBuilder(URI.create(api.base() + "/api/v1/jobs")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(padding)))); // no length: chunked
        problem(r, 413, "content-too-large");
        Thread.sleep(500); // a job, had one been published, would have reached the job-service by now
        assertThat(api.get("/api/v1/jobs").json().path("total").asLong()).isZero();
    }

    @Test
    @Order(4)
    void anIdempotencyKeyAnswersTheSameJobInItsCurrentStateAndRefusesAnotherBody() throws Exception {
        ApiClient api = tenantWithFeather("idempotent");
        String job = submit(api, PlatformMechanicsTest.RTN_JOB, "Idempotency-Key", "42");
        assertThat(api.awaitJob(job, Duration.ofSeconds(60)).path("state").asString()).isEqualTo("SUCCEEDED");
        ApiClient.Response again = api.post("/api/v1/jobs", PlatformMechanicsTest.RTN_JOB, "Idempotency-Key", "42");
        assertThat(again.status()).isEqualTo(202);
        assertThat(again.json().path("jobId").asString()).isEqualTo(job);
        assertThat(again.json().path("status").asString()).isEqualTo("SUCCEEDED");
        ApiClient.Response other = api.post("/api/v1/jobs", PlatformMechanicsTest.RTN_JOB.replace("\"bits\":4", "\"bits\":8"), "Idempotency-Key", "42");
        assertThat(problem(other, 422, "idempotency-key-reused").path("detail").asString()).contains("'42'");
        assertThat(api.get("/api/v1/jobs").json().path("total").asLong()).isEqualTo(1);
    }

    @Test
    @Order(5)
    void swaggerUiCanAuthenticateAndSubmitIsDocumentedAs202() throws Exception {
        JsonNode docs = admin.withKey(null).get("/v3/api-docs").json();
        JsonNode scheme = docs.path("components").path("securitySchemes").path("apiKey");
        assertThat(scheme.path("type").asString()).isEqualTo("http");
        assertThat(scheme.path("scheme").asString()).isEqualTo("bearer");
        assertThat(docs.path("security").get(0).has("apiKey")).isTrue();
        JsonNode submit = docs.path("paths").path("/api/v1/jobs").path("post").path("responses");
        assertThat(submit.propertyNames()).contains("202", "400", "422", "429").doesNotContain("200");
    }

    @Test
    @Order(6)
    void errorsAreProblemJsonWithoutInternalsEvenBeforeAControllerRuns() throws Exception {
        ApiClient api = tenantWithFeather("errors");
        problem(api.get("/api/v1/jobs/" + "a".repeat(10 * 1024)), 400, "validation");
        problem(api.get("/api/v1/artifacts/" + "a".repeat(10 * 1024)), 400, "validation");
        problem(api.get("/api/v1/jobs/..%2F..%2Finternal%2Fjobs"), 400, "bad-request");
        problem(api.get("/api/v1/no-such-thing"), 404, "not-found");
        problem(api.send(HttpRequest.newBuilder(URI.create(api.base() + "/api/v1/models")).DELETE()), 405, "method-not-allowed");
        problem(api.post("/api/v1/jobs", "{\"modelId\": \"feather-3m\", \"recipes\": [{\"method\": "), 400, "malformed-body");
        problem(api.post("/api/v1/jobs", "{\"modelId\": 12, \"recipes\": {\"method\": \"rtn\"}}"), 400, "malformed-body");
        problem(api.send(HttpRequest.newBuilder(URI.create(api.base() + "/api/v1/jobs")).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("hello"))), 415, "unsupported-media-type");
        // a model whose config.json is not JSON: capacity says so, it does not fail with 500
        ApiClient.Response broken = uploadFiles(api, "broken", Map.of("config.json", "this is not json".getBytes(StandardCharsets.UTF_8)));
        assertThat(broken.status()).as(broken.toString()).isEqualTo(201);
        problem(api.post("/api/v1/capacity", Map.of("modelId", "broken", "gpus", List.of("L4"), "ctx", 512, "kvDtype", "fp16")), 400, "validation");
        ApiClient.Response anyError = api.get("/api/v1/jobs/j-unknown");
        assertThat(problem(anyError, 404, "not-found").path("requestId").asString()).isEqualTo(anyError.header("X-Request-Id"));
    }

    // ---- tenant walls ---------------------------------------------------------------------------------

    @Test
    @Order(7)
    void anotherTenantSeesNoneOfATenantsModelsJobsArtifactsUrlsOrStreams() throws Exception {
        ApiClient a = tenantWithFeather("wall-a");
        ApiClient b = tenant("wall-b");
        String job = submit(a, PlatformMechanicsTest.RTN_JOB);
        JsonNode done = a.awaitJob(job, Duration.ofSeconds(60));
        String artifact = done.path("tasks").get(0).path("artifactId").asString();
        assertThat(a.get("/api/v1/artifacts/" + artifact).status()).isEqualTo(200);

        assertThat(b.get("/api/v1/models").json()).isEmpty();
        problem(b.get("/api/v1/models/feather-3m"), 404, "not-found");
        assertThat(b.get("/api/v1/jobs").json().path("total").asLong()).isZero();
        problem(b.get("/api/v1/jobs/" + job), 404, "not-found");
        problem(b.post("/api/v1/jobs/" + job + "/cancel", ""), 404, "not-found");
        problem(b.get("/api/v1/jobs/" + job + "/events"), 404, "not-found");
        assertThat(b.get("/api/v1/artifacts").json()).isEmpty();
        assertThat(b.get("/api/v1/artifacts?job=" + job).json()).isEmpty();
        problem(b.get("/api/v1/artifacts/" + artifact), 404, "not-found");
        problem(b.get("/api/v1/artifacts/" + artifact + "/download?path=model.bin"), 404, "not-found");
        problem(b.get("/api/v1/artifacts/" + artifact + "/download?path=model.bin&presigned=true"), 404, "not-found");
        problem(b.delete("/api/v1/artifacts/" + artifact), 404, "not-found");
        problem(b.post("/api/v1/jobs", PlatformMechanicsTest.RTN_JOB), 404, "not-found"); // a job on A's model
        problem(b.post("/api/v1/capacity", Map.of("artifactId", artifact, "gpus", List.of("L4"), "ctx", 512, "kvDtype", "fp16")), 404, "not-found");
        assertThat(a.get("/api/v1/artifacts/" + artifact).status()).isEqualTo(200); // still there, untouched
    }

    @Test
    @Order(8)
    void aRevokedKeyIsRefusedAtOnce() throws Exception {
        ApiClient api = tenant("revoked");
        String tenant = tenantId(api);
        ApiClient.Response second = admin.post("/api/v1/admin/tenants/" + tenant + "/keys", Map.of("admin", false));
        assertThat(second.status()).isEqualTo(201);
        ApiClient other = api.withKey(second.json().path("apiKey").asString());
        assertThat(other.get("/api/v1/models").status()).isEqualTo(200); // cached by the gateway now
        ApiClient.Response revoke = admin.delete("/api/v1/admin/tenants/" + tenant + "/keys/" + second.json().path("keyId").asString());
        assertThat(revoke.status()).as(revoke.toString()).isEqualTo(204);
        problem(other.get("/api/v1/models"), 401, "unauthorized");
        assertThat(api.get("/api/v1/models").status()).isEqualTo(200); // the tenant's other key still works
        problem(api.get("/api/v1/admin/tenants"), 403, "forbidden"); // a tenant key is not an admin key
        problem(admin.get("/api/v1/models"), 403, "forbidden"); // the bootstrap admin key is not a tenant key
    }

    @Test
    @Order(9)
    void pathTraversalInIdsAndFileNamesIsRefusedAndStoresNothing() throws Exception {
        ApiClient api = tenantWithFeather("traversal");
        byte[] config = java.nio.file.Files.readAllBytes(FEATHER.resolve("config.json"));
        for (String name : List.of("../evil.json", "a/../../evil.json", "/etc/passwd", "..", "a\\..\\evil.json")) {
            Map<String, byte[]> files = new LinkedHashMap<>();
            files.put("config.json", config);
            files.put(name, new byte[] {1, 2, 3});
            problem(uploadFiles(api, "evil", files), 400, "validation");
            assertThat(api.get("/api/v1/models/evil").status()).isEqualTo(404);
        }
        ByteArrayOutputStream zipped = new ByteArrayOutputStream();
        try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(zipped)) {
            for (String entry : List.of("config.json", "../../evil.json")) { // one good file is stored before the bad one
                zip.putNextEntry(new java.util.zip.ZipEntry(entry));
                zip.write(config);
                zip.closeEntry();
            }
        }
        problem(api.uploadArchive("evil-zip", "evil.zip", zipped.toByteArray()), 400, "validation");
        assertThat(api.get("/api/v1/models/evil-zip").status()).isEqualTo(404);
        String job = submit(api, PlatformMechanicsTest.RTN_JOB);
        String artifact = api.awaitJob(job, Duration.ofSeconds(60)).path("tasks").get(0).path("artifactId").asString();
        problem(api.get("/api/v1/artifacts/" + artifact + "/download?path=../../models/x/config.json"), 400, "validation");
        problem(api.get("/api/v1/artifacts/" + artifact + "/download?path=%2Fetc%2Fpasswd"), 400, "validation");
        problem(api.get("/api/v1/models/..%2E"), 400, "bad-request"); // Tomcat refuses it before any controller
        problem(api.post("/api/v1/models/import", Map.of("name", "../x", "source", "hf://org/feather")), 400, "validation");
        assertThat(api.get("/api/v1/models").json()).hasSize(1);
    }

    @Test
    @Order(10)
    void oversizedAndMalformedBodiesOfEveryEndpointAre4xxAndStoreNothing() throws Exception {
        ApiClient api = tenantWithFeather("bodies");
        String tenant = tenantId(api);
        String big = "{\"name\":\"" + "x".repeat(300 * 1024) + "\"}";
        Map<String, ApiClient> endpoints = new LinkedHashMap<>();
        endpoints.put("/api/v1/jobs", api);
        endpoints.put("/api/v1/models/import", api);
        endpoints.put("/api/v1/capacity", api);
        endpoints.put("/api/v1/admin/tenants", admin);
        endpoints.put("/api/v1/admin/tenants/" + tenant + "/keys", admin);
        int tenantsBefore = admin.get("/api/v1/admin/tenants").json().size();
        for (Map.Entry<String, ApiClient> e : endpoints.entrySet()) {
            problem(e.getValue().post(e.getKey(), big), 413, "content-too-large");
            problem(e.getValue().post(e.getKey(), "{\"name\": [1, 2"), 400, "malformed-body");
            problem(e.getValue().post(e.getKey(), "[]"), 400, "malformed-body");
        }
        for (String path : List.of("/api/v1/admin/tenants/" + tenant + "/limits", "/api/v1/admin/tenants/" + tenant + "/import-sources/bucket-one")) {
            problem(admin.send(HttpRequest.newBuilder(URI.create(admin.base() + path)).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString(big))), 413, "content-too-large");
            problem(admin.send(HttpRequest.newBuilder(URI.create(admin.base() + path)).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"x\":"))), 400, "malformed-body");
        }
        problem(api.uploadArchive("bad-zip", "model.zip", "PK\u0003\u0004 not really a zip".getBytes(StandardCharsets.UTF_8)), 400, "bad-request");
        assertThat(admin.get("/api/v1/admin/tenants").json().size()).isEqualTo(tenantsBefore);
        assertThat(admin.get("/api/v1/admin/tenants/" + tenant + "/keys").json()).hasSize(1);
        assertThat(api.get("/api/v1/models").json()).hasSize(1);
        assertThat(api.get("/api/v1/jobs").json().path("total").asLong()).isZero();
    }

    // ---- per-tenant limits ----------------------------------------------------------------------------

    @Test
    @Order(11)
    void perTenantLimitsAreEnforcedAndShown() throws Exception {
        ApiClient api = tenantWithFeather("limited");
        String tenant = tenantId(api);
        JsonNode view = api.get("/api/v1/tenant").json();
        long stored = view.path("usage").path("storageBytes").asLong();
        assertThat(stored).isEqualTo(folderBytes());
        assertThat(view.path("usage").path("jobsInFlight").asLong()).isZero();

        ApiClient.Response set = admin.send(HttpRequest.newBuilder(URI.create(admin.base() + "/api/v1/admin/tenants/" + tenant + "/limits"))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"jobsInFlight\":0,\"storageBytes\":" + (stored + 1000) + ",\"uploadBytes\":100000}")));
        assertThat(set.status()).as(set.toString()).isEqualTo(200);
        JsonNode limits = api.get("/api/v1/tenant").json().path("limits");
        assertThat(limits.path("jobsInFlight").asInt()).isZero();
        assertThat(limits.path("uploadBytes").asLong()).isEqualTo(100000);

        problem(api.post("/api/v1/jobs", PlatformMechanicsTest.RTN_JOB), 429, "jobs-in-flight-limit");
        problem(api.uploadModel("too-big", FEATHER), 413, "upload-limit");
        assertThat(api.get("/api/v1/models/too-big").status()).isEqualTo(404);
        // under the upload limit, but over the storage limit: refused, and the half-made model is gone
        problem(uploadFiles(api, "too-much", Map.of("config.json", new byte[600], "weights.safetensors", new byte[900])), 413, "content-too-large");
        assertThat(api.get("/api/v1/models/too-much").status()).isEqualTo(404);
        assertThat(api.get("/api/v1/tenant").json().path("usage").path("storageBytes").asLong()).isEqualTo(stored);
        assertThat(api.get("/api/v1/jobs").json().path("total").asLong()).isZero();
    }

    static long folderBytes() throws Exception {
        long n = 0;
        try (var s = java.nio.file.Files.list(FEATHER)) {
            for (var p : s.filter(java.nio.file.Files::isRegularFile).filter(p -> !p.getFileName().toString().endsWith(".md")).toList())
                n += java.nio.file.Files.size(p);
        }
        return n;
    }

    static String sha256(String s) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
