package dev.featherweight.registry;

import dev.featherweight.contracts.registry.Artifact;
import dev.featherweight.contracts.registry.DownloadUrl;
import dev.featherweight.contracts.registry.FileInfo;
import dev.featherweight.contracts.registry.KeyOwner;
import dev.featherweight.contracts.registry.Model;
import dev.featherweight.contracts.registry.NewArtifact;
import dev.featherweight.contracts.registry.NewKey;
import dev.featherweight.contracts.registry.NewModel;
import dev.featherweight.contracts.registry.NewTenant;
import dev.featherweight.contracts.registry.Tenant;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.*;
import org.springframework.web.servlet.mvc.method.annotation.StreamingResponseBody;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;

/**
 * Internal API of the registry (called by the gateway and the workers, never by users: the gateway
 * authenticates and passes the tenant). File paths travel as a query parameter because they contain '/'.
 */
@RestController
@RequestMapping("/internal")
public class RegistryController {
    private final Registry registry;

    public RegistryController(Registry registry) {
        this.registry = registry;
    }

    @PostMapping("/tenants")
    @ResponseStatus(HttpStatus.CREATED)
    Tenant createTenant(@RequestBody NewTenant body) {
        return registry.createTenant(body.name());
    }

    @GetMapping("/tenants")
    List<Tenant> tenants() {
        return registry.tenants();
    }

    record KeyId(String keyId) {}

    @PostMapping("/tenants/{tenant}/keys")
    @ResponseStatus(HttpStatus.CREATED)
    KeyId addKey(@PathVariable String tenant, @RequestBody NewKey body) {
        return new KeyId(registry.addKey(tenant, body.keyHash(), body.admin()));
    }

    @GetMapping("/tenants/{tenant}/keys")
    List<Registry.KeyInfo> keys(@PathVariable String tenant) {
        return registry.keys(tenant);
    }

    @DeleteMapping("/tenants/{tenant}/keys/{keyId}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void revokeKey(@PathVariable String tenant, @PathVariable String keyId) {
        registry.revokeKey(tenant, keyId);
    }

    @GetMapping("/tenants/{tenant}")
    Registry.TenantUsage tenant(@PathVariable String tenant) {
        return registry.usage(tenant);
    }

    @PutMapping("/tenants/{tenant}/limits")
    Registry.TenantUsage setLimits(@PathVariable String tenant, @RequestBody Registry.Limits limits) {
        return registry.setLimits(tenant, limits);
    }

    @PutMapping("/tenants/{tenant}/import-sources/{bucket}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void putImportSource(@PathVariable String tenant, @PathVariable String bucket, @RequestBody Registry.ImportSource source) {
        registry.putImportSource(tenant, new Registry.ImportSource(bucket, source.endpoint(), source.accessKey(), source.secretKey()));
    }

    @GetMapping("/tenants/{tenant}/import-sources")
    List<Registry.ImportSourceInfo> importSources(@PathVariable String tenant) {
        return registry.importSources(tenant);
    }

    /** With the secret: for the gateway's import, never shown to users. */
    @GetMapping("/tenants/{tenant}/import-sources/{bucket}")
    Registry.ImportSource importSource(@PathVariable String tenant, @PathVariable String bucket) {
        return registry.importSource(tenant, bucket).orElseThrow(() -> new Registry.NotFound("import source " + bucket));
    }

    @DeleteMapping("/tenants/{tenant}/import-sources/{bucket}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void deleteImportSource(@PathVariable String tenant, @PathVariable String bucket) {
        registry.deleteImportSource(tenant, bucket);
    }

    @GetMapping("/keys/{keyHash}")
    KeyOwner keyOwner(@PathVariable String keyHash) {
        return registry.keyOwner(keyHash).orElseThrow(() -> new Registry.NotFound("key"));
    }

    @PostMapping("/tenants/{tenant}/models")
    @ResponseStatus(HttpStatus.CREATED)
    void createModel(@PathVariable String tenant, @RequestBody NewModel body) {
        registry.createModel(tenant, body.name(), body.source());
    }

    @PutMapping("/tenants/{tenant}/models/{name}/files")
    FileInfo putModelFile(@PathVariable String tenant, @PathVariable String name, @RequestParam String path,
                                   @RequestHeader(value = "X-Sha256", required = false) String sha256,
                                   HttpServletRequest request) throws IOException {
        return registry.putModelFile(tenant, name, path, request.getInputStream(), sha256);
    }

    @DeleteMapping("/tenants/{tenant}/models/{name}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void deleteModel(@PathVariable String tenant, @PathVariable String name) {
        registry.deleteModel(tenant, name);
    }

    @PostMapping("/tenants/{tenant}/models/{name}/ready")
    Model ready(@PathVariable String tenant, @PathVariable String name) {
        return registry.markModelReady(tenant, name);
    }

    @GetMapping("/tenants/{tenant}/models")
    List<Model> models(@PathVariable String tenant) {
        return registry.models(tenant);
    }

    @GetMapping("/tenants/{tenant}/models/{name}")
    Model model(@PathVariable String tenant, @PathVariable String name) {
        return registry.model(tenant, name).orElseThrow(() -> new Registry.NotFound("model " + name));
    }

    @GetMapping("/tenants/{tenant}/models/{name}/file")
    StreamingResponseBody modelFile(@PathVariable String tenant, @PathVariable String name, @RequestParam String path) {
        InputStream in = registry.modelFile(tenant, name, path);
        return out -> { try (in) { in.transferTo(out); } };
    }

    @PutMapping("/tenants/{tenant}/models/{name}/metrics/{metric}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void putModelMetric(@PathVariable String tenant, @PathVariable String name, @PathVariable String metric, @RequestBody double value) {
        registry.putModelMetric(tenant, name, metric, value);
    }

    /** Internal blobs of a model (workers only; the gateway has no route to them): stored, described, read. */
    @PutMapping("/tenants/{tenant}/models/{name}/blobs/{blob}")
    FileInfo putModelBlob(@PathVariable String tenant, @PathVariable String name, @PathVariable String blob,
                          @RequestHeader(value = "X-Sha256", required = false) String sha256, HttpServletRequest request) throws IOException {
        return registry.putModelBlob(tenant, name, blob, request.getInputStream(), sha256);
    }

    @GetMapping("/tenants/{tenant}/models/{name}/blobs/{blob}")
    FileInfo modelBlob(@PathVariable String tenant, @PathVariable String name, @PathVariable String blob) {
        return registry.modelBlob(tenant, name, blob).orElseThrow(() -> new Registry.NotFound("blob " + blob + " of model " + name));
    }

    @GetMapping("/tenants/{tenant}/models/{name}/blobs/{blob}/content")
    StreamingResponseBody modelBlobContent(@PathVariable String tenant, @PathVariable String name, @PathVariable String blob) {
        InputStream in = registry.modelBlobContent(tenant, name, blob);
        return out -> { try (in) { in.transferTo(out); } };
    }

    @PostMapping("/artifacts")
    Artifact createArtifact(@RequestBody NewArtifact body) {
        return registry.createArtifact(body);
    }

    @GetMapping("/tasks/{taskId}/artifact")
    Artifact artifactOfTask(@PathVariable String taskId) {
        return registry.artifactOfTask(taskId).orElseThrow(() -> new Registry.NotFound("artifact of task " + taskId));
    }

    @PutMapping("/artifacts/{id}/files")
    FileInfo putArtifactFile(@PathVariable String id, @RequestParam String path,
                                      @RequestHeader(value = "X-Sha256", required = false) String sha256,
                                      HttpServletRequest request) throws IOException {
        return registry.putArtifactFile(id, path, request.getInputStream(), sha256);
    }

    @PostMapping("/artifacts/{id}/complete")
    Artifact complete(@PathVariable String id, @RequestBody Map<String, String> files) {
        return registry.completeArtifact(id, files);
    }

    @PostMapping("/artifacts/{id}/metrics")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void metrics(@PathVariable String id, @RequestBody Map<String, Double> metrics) {
        registry.putArtifactMetrics(id, metrics);
    }

    @GetMapping("/tenants/{tenant}/artifacts")
    List<Artifact> artifacts(@PathVariable String tenant, @RequestParam(required = false) String model,
                                      @RequestParam(required = false) String method, @RequestParam(required = false) Integer bits,
                                      @RequestParam(required = false) String job) {
        return registry.artifacts(tenant, model, method, bits, job);
    }

    /** Pending artifacts answer 404 to tenants: an artifact is visible only when complete. */
    @GetMapping("/tenants/{tenant}/artifacts/{id}")
    Artifact artifact(@PathVariable String tenant, @PathVariable String id) {
        return visible(tenant, id);
    }

    @GetMapping("/tenants/{tenant}/artifacts/{id}/file")
    StreamingResponseBody artifactFile(@PathVariable String tenant, @PathVariable String id, @RequestParam String path) {
        visible(tenant, id);
        InputStream in = registry.artifactFile(id, path);
        return out -> { try (in) { in.transferTo(out); } };
    }

    @GetMapping("/tenants/{tenant}/artifacts/{id}/url")
    DownloadUrl artifactUrl(@PathVariable String tenant, @PathVariable String id, @RequestParam String path) {
        visible(tenant, id);
        return new DownloadUrl(registry.artifactFileUrl(id, path));
    }

    @DeleteMapping("/tenants/{tenant}/artifacts/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void delete(@PathVariable String tenant, @PathVariable String id) {
        visible(tenant, id);
        registry.deleteArtifact(id);
    }

    private Artifact visible(String tenant, String id) {
        return registry.artifact(id, false).filter(a -> a.tenantId().equals(tenant))
                .orElseThrow(() -> new Registry.NotFound("artifact " + id));
    }

    @ExceptionHandler
    ResponseEntity<ProblemDetail> notFound(Registry.NotFound e) {
        return problem(HttpStatus.NOT_FOUND, e.getMessage());
    }

    @ExceptionHandler
    ResponseEntity<ProblemDetail> conflict(Registry.Conflict e) {
        return problem(HttpStatus.CONFLICT, e.getMessage());
    }

    @ExceptionHandler
    ResponseEntity<ProblemDetail> badRequest(Registry.BadRequest e) {
        return problem(HttpStatus.BAD_REQUEST, e.getMessage());
    }

    @ExceptionHandler
    ResponseEntity<ProblemDetail> jobsUnavailable(Registry.Unavailable e) {
        return problem(HttpStatus.SERVICE_UNAVAILABLE, e.getMessage());
    }

    @ExceptionHandler
    ResponseEntity<ProblemDetail> quota(Registry.QuotaExceeded e) {
        return problem(HttpStatus.CONTENT_TOO_LARGE, e.getMessage());
    }

    @ExceptionHandler
    ResponseEntity<ProblemDetail> unavailable(BlobStore.BlobStoreUnavailable e) {
        return problem(HttpStatus.SERVICE_UNAVAILABLE, e.getMessage());
    }

    static ResponseEntity<ProblemDetail> problem(HttpStatus status, String detail) {
        return ResponseEntity.status(status).body(ProblemDetail.forStatusAndDetail(status, detail));
    }
}
