package dev.featherweight.service;

import dev.featherweight.contracts.registry.Artifact;
import dev.featherweight.contracts.registry.DownloadUrl;
import dev.featherweight.contracts.registry.KeyOwner;
import dev.featherweight.contracts.registry.Model;
import dev.featherweight.contracts.registry.NewArtifact;
import dev.featherweight.contracts.registry.NewKey;
import dev.featherweight.contracts.registry.NewModel;
import dev.featherweight.contracts.registry.NewTenant;
import dev.featherweight.contracts.registry.Tenant;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.service.annotation.DeleteExchange;
import org.springframework.web.service.annotation.GetExchange;
import org.springframework.web.service.annotation.HttpExchange;
import org.springframework.web.service.annotation.PostExchange;
import org.springframework.web.service.annotation.PutExchange;

import java.util.List;
import java.util.Map;

/**
 * The registry-service's internal API (JSON calls; file bodies stream through {@link RegistryFiles}). A
 * missing tenant, model or artifact answers 404, thrown as {@code HttpClientErrorException.NotFound}.
 */
@HttpExchange("/internal")
public interface RegistryApi {

    @PostExchange("/tenants")
    Tenant createTenant(@RequestBody NewTenant tenant);

    @Idempotent
    @GetExchange("/tenants")
    List<Tenant> tenants();

    /** Adding the same key hash again changes nothing. */
    @Idempotent
    @PostExchange("/tenants/{tenant}/keys")
    void addKey(@PathVariable String tenant, @RequestBody NewKey key);

    @Idempotent
    @GetExchange("/keys/{keyHash}")
    KeyOwner keyOwner(@PathVariable String keyHash);

    @PostExchange("/tenants/{tenant}/models")
    void createModel(@PathVariable String tenant, @RequestBody NewModel model);

    /** Removes the model with its files (a failed upload or import). */
    @Idempotent
    @DeleteExchange("/tenants/{tenant}/models/{name}")
    void deleteModel(@PathVariable String tenant, @PathVariable String name);

    @Idempotent
    @PostExchange("/tenants/{tenant}/models/{name}/ready")
    Model markModelReady(@PathVariable String tenant, @PathVariable String name);

    @Idempotent
    @GetExchange("/tenants/{tenant}/models")
    List<Model> models(@PathVariable String tenant);

    @Idempotent
    @GetExchange("/tenants/{tenant}/models/{name}")
    Model model(@PathVariable String tenant, @PathVariable String name);

    @Idempotent
    @PutExchange(url = "/tenants/{tenant}/models/{name}/metrics/{metric}", contentType = "application/json")
    void putModelMetric(@PathVariable String tenant, @PathVariable String name, @PathVariable String metric, @RequestBody double value);

    /** An internal blob of the model (path = the blob's name, size, sha256); 404 when the model has none of that name. */
    @Idempotent
    @GetExchange("/tenants/{tenant}/models/{name}/blobs/{blob}")
    dev.featherweight.contracts.registry.FileInfo modelBlob(@PathVariable String tenant, @PathVariable String name, @PathVariable String blob);

    /** Keyed by task id: registering the same task's artifact again returns the first one. */
    @Idempotent
    @PostExchange("/artifacts")
    Artifact createArtifact(@RequestBody NewArtifact artifact);

    @Idempotent
    @GetExchange("/tasks/{taskId}/artifact")
    Artifact artifactOfTask(@PathVariable String taskId);

    /** Makes the artifact visible once it holds exactly the promised files (path → sha256). */
    @Idempotent
    @PostExchange("/artifacts/{id}/complete")
    Artifact completeArtifact(@PathVariable String id, @RequestBody Map<String, String> files);

    @Idempotent
    @PostExchange("/artifacts/{id}/metrics")
    void putArtifactMetrics(@PathVariable String id, @RequestBody Map<String, Double> metrics);

    @Idempotent
    @GetExchange("/tenants/{tenant}/artifacts")
    List<Artifact> artifacts(@PathVariable String tenant, @RequestParam(required = false) String model,
                             @RequestParam(required = false) String method, @RequestParam(required = false) Integer bits,
                             @RequestParam(required = false) String job);

    /** Complete artifacts only: a pending one is 404 to its tenant. */
    @Idempotent
    @GetExchange("/tenants/{tenant}/artifacts/{id}")
    Artifact artifact(@PathVariable String tenant, @PathVariable String id);

    @Idempotent
    @GetExchange("/tenants/{tenant}/artifacts/{id}/url")
    DownloadUrl artifactUrl(@PathVariable String tenant, @PathVariable String id, @RequestParam String path);

    @Idempotent
    @DeleteExchange("/tenants/{tenant}/artifacts/{id}")
    void deleteArtifact(@PathVariable String tenant, @PathVariable String id);
}
