package dev.featherweight.registry;

import dev.featherweight.contracts.Sha256;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.ResultActions;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.web.context.WebApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.delete;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.put;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

/**
 * The registry-service alone, on a real PostgreSQL (embedded, its own Flyway schema) and a real S3 server
 * (s3proxy): tenancy (another tenant's model or artifact is 404), the sha256 check of uploads, and the
 * lifecycles UPLOADING → READY of a model and PENDING → COMPLETE of an artifact (invisible until complete).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.MOCK, properties = {
        "spring.flyway.locations=classpath:db/registry", "spring.servlet.multipart.enabled=false",
        // every service refuses to start without the deployment's service credential; MockMvc here calls the
        // controllers directly (no filter chain), the credential check itself is PlatformSecurityTest's
        "featherweight.service-credential=registry-test-credential-of-at-least-32-characters",
        "spring.autoconfigure.exclude=org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration,"
                + "org.springframework.boot.data.jpa.autoconfigure.DataJpaRepositoriesAutoConfiguration"})
class RegistryServiceTest {
    static final EmbeddedPostgres PG;
    static final S3Proxy S3;
    static final JsonMapper JSON = JsonMapper.shared();
    /** Stands in for the job-service TaskFence asks before an artifact completes: every task is open. */
    static final com.sun.net.httpserver.HttpServer JOBS;

    static {
        try {
            PG = EmbeddedPostgres.builder().start();
            Path blobs = Files.createTempDirectory("registry-test-s3");
            S3 = S3Proxy.builder().blobStore(new FilesystemNio2BlobStore(blobs.toString())).endpoint(URI.create("http://127.0.0.1:0"))
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "test-access", "test-secret").ignoreUnknownHeaders(true).build();
            S3.start();
            while (!S3.getState().equals("STARTED")) Thread.sleep(10);
            JOBS = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
            JOBS.createContext("/internal/tasks/", exchange -> {
                String id = exchange.getRequestURI().getPath().substring("/internal/tasks/".length());
                byte[] body = JSON.writeValueAsBytes(new dev.featherweight.contracts.jobs.TaskStatus(id, dev.featherweight.contracts.jobs.TaskState.RUNNING, 1, true));
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, body.length);
                try (var out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            JOBS.start();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @DynamicPropertySource
    static void servers(DynamicPropertyRegistry r) {
        r.add("spring.datasource.url", () -> PG.getJdbcUrl("postgres", "postgres"));
        r.add("spring.datasource.username", () -> "postgres");
        r.add("spring.datasource.password", () -> "postgres");
        r.add("featherweight.s3.endpoint", () -> "http://127.0.0.1:" + S3.getPort());
        r.add("featherweight.s3.access-key", () -> "test-access");
        r.add("featherweight.s3.secret-key", () -> "test-secret");
        r.add("featherweight.s3.bucket", () -> "registry-test");
        r.add("featherweight.jobs-url", () -> "http://127.0.0.1:" + JOBS.getAddress().getPort());
        r.add("featherweight.service-credential", () -> "registry-test-credential-0123456789abcdef");
    }

    @AfterAll
    static void stop() throws Exception {
        S3.stop();
        PG.close();
        JOBS.stop(0);
    }

    @Autowired
    WebApplicationContext context;
    MockMvc mvc;
    String tenant;
    String other;

    @BeforeEach
    void tenants() throws Exception {
        mvc = MockMvcBuilders.webAppContextSetup(context).build();
        tenant = tenant("acme-" + UUID.randomUUID().toString().substring(0, 8));
        other = tenant("other-" + UUID.randomUUID().toString().substring(0, 8));
    }

    String tenant(String name) throws Exception {
        return json(mvc.perform(post("/internal/tenants").contentType(MediaType.APPLICATION_JSON).content("{\"name\":\"" + name + "\"}"))
                .andExpect(status().isCreated())).path("id").asString();
    }

    static JsonNode json(ResultActions result) throws Exception {
        return JSON.readTree(result.andReturn().getResponse().getContentAsString());
    }

    ResultActions putModelFile(String t, String model, String path, String body, String sha256) throws Exception {
        var request = put("/internal/tenants/{t}/models/{n}/files", t, model).param("path", path)
                .contentType(MediaType.APPLICATION_OCTET_STREAM).content(body.getBytes(StandardCharsets.UTF_8));
        if (sha256 != null) request.header("X-Sha256", sha256);
        return mvc.perform(request);
    }

    void readyModel(String t, String model) throws Exception {
        mvc.perform(post("/internal/tenants/{t}/models", t).contentType(MediaType.APPLICATION_JSON)
                .content("{\"name\":\"" + model + "\",\"source\":\"upload\"}")).andExpect(status().isCreated());
        putModelFile(t, model, "config.json", "{\"dim\":64}", null).andExpect(status().isOk());
        mvc.perform(post("/internal/tenants/{t}/models/{n}/ready", t, model)).andExpect(status().isOk());
    }

    /** An artifact of the task with one uploaded file; completed when asked. */
    String artifact(String t, String model, String taskId, boolean complete) throws Exception {
        String id = json(mvc.perform(post("/internal/artifacts").contentType(MediaType.APPLICATION_JSON).content("""
                {"tenantId":"%s","taskId":"%s","jobId":"j-1","modelName":"%s","method":"gguf","bits":8,"label":"gguf Q8_0",
                 "recipe":"{}","kernelsVersion":"test"}""".formatted(t, taskId, model))).andExpect(status().isOk())).path("id").asString();
        String body = "GGUF bytes";
        mvc.perform(put("/internal/artifacts/{id}/files", id).param("path", "model.gguf").header("X-Sha256", Sha256.of(body))
                .contentType(MediaType.APPLICATION_OCTET_STREAM).content(body.getBytes(StandardCharsets.UTF_8))).andExpect(status().isOk());
        if (complete)
            mvc.perform(post("/internal/artifacts/{id}/complete", id).contentType(MediaType.APPLICATION_JSON)
                    .content("{\"model.gguf\":\"" + Sha256.of(body) + "\"}")).andExpect(status().isOk());
        return id;
    }

    @Test
    void aModelIsUploadingUntilMarkedReadyAndReadyNeedsAConfigJson() throws Exception {
        mvc.perform(post("/internal/tenants/{t}/models", tenant).contentType(MediaType.APPLICATION_JSON)
                .content("{\"name\":\"m\",\"source\":\"upload\"}")).andExpect(status().isCreated());
        mvc.perform(get("/internal/tenants/{t}/models/m", tenant)).andExpect(jsonPath("$.state").value("UPLOADING"));
        mvc.perform(post("/internal/tenants/{t}/models/m/ready", tenant)).andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.detail").value(containsString("no config.json")));
        putModelFile(tenant, "m", "config.json", "{}", null).andExpect(status().isOk());
        mvc.perform(post("/internal/tenants/{t}/models/m/ready", tenant)).andExpect(status().isOk())
                .andExpect(jsonPath("$.state").value("READY"))
                .andExpect(jsonPath("$.files[0].sha256").value(Sha256.of("{}")));
    }

    @Test
    void anUploadWhoseSha256DiffersFromTheDeclaredOneIsRefusedAndNotStored() throws Exception {
        mvc.perform(post("/internal/tenants/{t}/models", tenant).contentType(MediaType.APPLICATION_JSON)
                .content("{\"name\":\"m\",\"source\":\"upload\"}")).andExpect(status().isCreated());
        putModelFile(tenant, "m", "config.json", "{\"dim\":64}", Sha256.of("something else")).andExpect(status().isBadRequest())
                .andExpect(jsonPath("$.detail").value(containsString("the uploader declared")));
        mvc.perform(get("/internal/tenants/{t}/models/m", tenant)).andExpect(jsonPath("$.files").isEmpty());
        putModelFile(tenant, "m", "config.json", "{\"dim\":64}", Sha256.of("{\"dim\":64}")).andExpect(status().isOk())
                .andExpect(jsonPath("$.size").value(10));
    }

    @Test
    void anotherTenantsModelAndArtifactAreNotFound() throws Exception {
        readyModel(tenant, "m");
        String id = artifact(tenant, "m", "task-" + UUID.randomUUID(), true);
        mvc.perform(get("/internal/tenants/{t}/models/m", other)).andExpect(status().isNotFound());
        mvc.perform(get("/internal/tenants/{t}/models/m/file", other).param("path", "config.json")).andExpect(status().isNotFound());
        mvc.perform(get("/internal/tenants/{t}/artifacts/{id}", other, id)).andExpect(status().isNotFound());
        mvc.perform(get("/internal/tenants/{t}/artifacts/{id}/file", other, id).param("path", "model.gguf")).andExpect(status().isNotFound());
        mvc.perform(delete("/internal/tenants/{t}/artifacts/{id}", other, id)).andExpect(status().isNotFound());
        mvc.perform(get("/internal/tenants/{t}/artifacts", other)).andExpect(jsonPath("$").isEmpty());
        // and its owner still sees it, unharmed
        mvc.perform(get("/internal/tenants/{t}/artifacts/{id}", tenant, id)).andExpect(status().isOk())
                .andExpect(jsonPath("$.state").value("COMPLETE")).andExpect(jsonPath("$.lineage.modelName").value("m"));
    }

    @Test
    void anArtifactIsInvisibleUntilCompleteAndCompletesOnlyWithThePromisedFiles() throws Exception {
        readyModel(tenant, "m");
        String taskId = "task-" + UUID.randomUUID();
        String id = artifact(tenant, "m", taskId, false);
        mvc.perform(get("/internal/tenants/{t}/artifacts/{id}", tenant, id)).andExpect(status().isNotFound());
        mvc.perform(get("/internal/tasks/{task}/artifact", taskId)).andExpect(jsonPath("$.state").value("PENDING"));
        mvc.perform(post("/internal/artifacts/{id}/complete", id).contentType(MediaType.APPLICATION_JSON)
                .content("{\"model.gguf\":\"" + Sha256.of("other bytes") + "\"}")).andExpect(status().isConflict());
        mvc.perform(post("/internal/artifacts/{id}/complete", id).contentType(MediaType.APPLICATION_JSON)
                .content("{\"model.gguf\":\"" + Sha256.of("GGUF bytes") + "\"}")).andExpect(status().isOk())
                .andExpect(jsonPath("$.state").value("COMPLETE"));
        // a streamed body is written asynchronously: read it after the async dispatch, not when the handler returns
        var streamed = mvc.perform(get("/internal/tenants/{t}/artifacts/{id}/file", tenant, id).param("path", "model.gguf")).andReturn();
        mvc.perform(org.springframework.test.web.servlet.request.MockMvcRequestBuilders.asyncDispatch(streamed))
                .andExpect(status().isOk()).andExpect(content().bytes("GGUF bytes".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void registeringTheSameTasksArtifactTwiceReturnsTheFirst() throws Exception {
        readyModel(tenant, "m");
        String taskId = "task-" + UUID.randomUUID();
        String first = artifact(tenant, "m", taskId, false);
        String second = artifact(tenant, "m", taskId, false);
        assertThat(second).isEqualTo(first);
    }

    @Test
    void aModelsInternalBlobIsTheTenantsOwnNeverAFileOrArtifactAndGoesWithTheModel() throws Exception {
        readyModel(tenant, "m");
        String blob = "kld-base.demo-stories.ctx256.chunks0", body = "_logits_ of m";
        mvc.perform(put("/internal/tenants/{t}/models/m/blobs/{b}", tenant, blob).header("X-Sha256", Sha256.of("other"))
                .contentType(MediaType.APPLICATION_OCTET_STREAM).content(body.getBytes(StandardCharsets.UTF_8))).andExpect(status().isBadRequest());
        mvc.perform(put("/internal/tenants/{t}/models/m/blobs/{b}", tenant, blob).header("X-Sha256", Sha256.of(body))
                .contentType(MediaType.APPLICATION_OCTET_STREAM).content(body.getBytes(StandardCharsets.UTF_8))).andExpect(status().isOk());
        mvc.perform(get("/internal/tenants/{t}/models/m/blobs/{b}", tenant, blob)).andExpect(status().isOk())
                .andExpect(jsonPath("$.path").value(blob)).andExpect(jsonPath("$.size").value(body.length())).andExpect(jsonPath("$.sha256").value(Sha256.of(body)));
        var streamed = mvc.perform(get("/internal/tenants/{t}/models/m/blobs/{b}/content", tenant, blob)).andReturn();
        mvc.perform(org.springframework.test.web.servlet.request.MockMvcRequestBuilders.asyncDispatch(streamed))
                .andExpect(status().isOk()).andExpect(content().bytes(body.getBytes(StandardCharsets.UTF_8)));
        // not a model file, not an artifact, not the tenant's stored bytes
        mvc.perform(get("/internal/tenants/{t}/models/m", tenant)).andExpect(jsonPath("$.files.length()").value(1))
                .andExpect(jsonPath("$.files[0].path").value("config.json"));
        mvc.perform(get("/internal/tenants/{t}/artifacts", tenant)).andExpect(jsonPath("$").isEmpty());
        mvc.perform(get("/internal/tenants/{t}", tenant)).andExpect(jsonPath("$.storageBytes").value("{\"dim\":64}".length()));
        // another tenant can neither read nor describe it, even with a model of the same name
        readyModel(other, "m");
        mvc.perform(get("/internal/tenants/{t}/models/m/blobs/{b}", other, blob)).andExpect(status().isNotFound());
        mvc.perform(get("/internal/tenants/{t}/models/m/blobs/{b}/content", other, blob)).andExpect(status().isNotFound());
        mvc.perform(put("/internal/tenants/{t}/models/m/blobs/{b}", tenant, "-not-a-name").contentType(MediaType.APPLICATION_OCTET_STREAM)
                .content(new byte[1])).andExpect(status().isBadRequest());
        assertThat(blobStore.get("model-blobs/" + tenant + "/m/" + blob).readAllBytes()).isEqualTo(body.getBytes(StandardCharsets.UTF_8));
        // deleting the model deletes the blob, its row and its S3 object; a new model of that name starts without it
        mvc.perform(delete("/internal/tenants/{t}/models/m", tenant)).andExpect(status().isNoContent());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> blobStore.get("model-blobs/" + tenant + "/m/" + blob).readAllBytes())
                .isInstanceOf(BlobStore.BlobStoreUnavailable.class);
        readyModel(tenant, "m");
        mvc.perform(get("/internal/tenants/{t}/models/m/blobs/{b}", tenant, blob)).andExpect(status().isNotFound());
    }

    @Autowired
    BlobStore blobStore;

    @Test
    void aDeletedArtifactIsGone() throws Exception {
        readyModel(tenant, "m");
        String id = artifact(tenant, "m", "task-" + UUID.randomUUID(), true);
        mvc.perform(delete("/internal/tenants/{t}/artifacts/{id}", tenant, id)).andExpect(status().isNoContent());
        mvc.perform(get("/internal/tenants/{t}/artifacts/{id}", tenant, id)).andExpect(status().isNotFound());
    }
}
