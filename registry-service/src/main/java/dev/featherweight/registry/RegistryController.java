package dev.featherweight.registry;

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

    record NewTenant(String name) {}

    record NewKey(String keyHash, boolean admin) {}

    @PostMapping("/tenants")
    @ResponseStatus(HttpStatus.CREATED)
    Registry.Tenant createTenant(@RequestBody NewTenant body) {
        return registry.createTenant(body.name());
    }

    @GetMapping("/tenants")
    List<Registry.Tenant> tenants() {
        return registry.tenants();
    }

    @PostMapping("/tenants/{tenant}/keys")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void addKey(@PathVariable String tenant, @RequestBody NewKey body) {
        registry.addKey(tenant, body.keyHash(), body.admin());
    }

    @GetMapping("/keys/{keyHash}")
    Registry.KeyOwner keyOwner(@PathVariable String keyHash) {
        return registry.keyOwner(keyHash).orElseThrow(() -> new Registry.NotFound("key"));
    }

    record NewModel(String name, String source) {}

    @PostMapping("/tenants/{tenant}/models")
    @ResponseStatus(HttpStatus.CREATED)
    void createModel(@PathVariable String tenant, @RequestBody NewModel body) {
        registry.createModel(tenant, body.name(), body.source());
    }

    @PutMapping("/tenants/{tenant}/models/{name}/files")
    Registry.FileInfo putModelFile(@PathVariable String tenant, @PathVariable String name, @RequestParam String path,
                                   @RequestHeader(value = "X-Sha256", required = false) String sha256,
                                   HttpServletRequest request) throws IOException {
        return registry.putModelFile(tenant, name, path, request.getInputStream(), sha256);
    }

    @PostMapping("/tenants/{tenant}/models/{name}/ready")
    Registry.Model ready(@PathVariable String tenant, @PathVariable String name) {
        return registry.markModelReady(tenant, name);
    }

    @GetMapping("/tenants/{tenant}/models")
    List<Registry.Model> models(@PathVariable String tenant) {
        return registry.models(tenant);
    }

    @GetMapping("/tenants/{tenant}/models/{name}")
    Registry.Model model(@PathVariable String tenant, @PathVariable String name) {
        return registry.model(tenant, name).orElseThrow(() -> new Registry.NotFound("model " + name));
    }

    @DeleteMapping("/tenants/{tenant}/models/{name}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void deleteModel(@PathVariable String tenant, @PathVariable String name) {
        registry.deleteModel(tenant, name);
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

    @PostMapping("/artifacts")
    Registry.Artifact createArtifact(@RequestBody Registry.NewArtifact body) {
        return registry.createArtifact(body);
    }

    @GetMapping("/tasks/{taskId}/artifact")
    Registry.Artifact artifactOfTask(@PathVariable String taskId) {
        return registry.artifactOfTask(taskId).orElseThrow(() -> new Registry.NotFound("artifact of task " + taskId));
    }

    @PutMapping("/artifacts/{id}/files")
    Registry.FileInfo putArtifactFile(@PathVariable String id, @RequestParam String path,
                                      @RequestHeader(value = "X-Sha256", required = false) String sha256,
                                      HttpServletRequest request) throws IOException {
        return registry.putArtifactFile(id, path, request.getInputStream(), sha256);
    }

    @PostMapping("/artifacts/{id}/complete")
    Registry.Artifact complete(@PathVariable String id, @RequestBody Map<String, String> files) {
        return registry.completeArtifact(id, files);
    }

    @PostMapping("/artifacts/{id}/metrics")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void metrics(@PathVariable String id, @RequestBody Map<String, Double> metrics) {
        registry.putArtifactMetrics(id, metrics);
    }

    @GetMapping("/tenants/{tenant}/artifacts")
    List<Registry.Artifact> artifacts(@PathVariable String tenant, @RequestParam(required = false) String model,
                                      @RequestParam(required = false) String method, @RequestParam(required = false) Integer bits,
                                      @RequestParam(required = false) String job) {
        return registry.artifacts(tenant, model, method, bits, job);
    }

    /** Pending artifacts answer 404 to tenants: an artifact is visible only when complete. */
    @GetMapping("/tenants/{tenant}/artifacts/{id}")
    Registry.Artifact artifact(@PathVariable String tenant, @PathVariable String id) {
        return visible(tenant, id);
    }

    @GetMapping("/tenants/{tenant}/artifacts/{id}/file")
    StreamingResponseBody artifactFile(@PathVariable String tenant, @PathVariable String id, @RequestParam String path) {
        visible(tenant, id);
        InputStream in = registry.artifactFile(id, path);
        return out -> { try (in) { in.transferTo(out); } };
    }

    record Url(String url) {}

    @GetMapping("/tenants/{tenant}/artifacts/{id}/url")
    Url artifactUrl(@PathVariable String tenant, @PathVariable String id, @RequestParam String path) {
        visible(tenant, id);
        return new Url(registry.artifactFileUrl(id, path));
    }

    @DeleteMapping("/tenants/{tenant}/artifacts/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void delete(@PathVariable String tenant, @PathVariable String id) {
        visible(tenant, id);
        registry.deleteArtifact(id);
    }

    private Registry.Artifact visible(String tenant, String id) {
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
    ResponseEntity<ProblemDetail> unavailable(BlobStore.BlobStoreUnavailable e) {
        return problem(HttpStatus.SERVICE_UNAVAILABLE, e.getMessage());
    }

    static ResponseEntity<ProblemDetail> problem(HttpStatus status, String detail) {
        return ResponseEntity.status(status).body(ProblemDetail.forStatusAndDetail(status, detail));
    }
}
