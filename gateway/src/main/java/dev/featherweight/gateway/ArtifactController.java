package dev.featherweight.gateway;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.*;
import org.springframework.web.client.RestClient;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Artifacts: only complete ones are visible. Download streamed through the gateway, or a presigned S3 URL. */
@RestController
@RequestMapping("/api/v1/artifacts")
@Tag(name = "artifacts")
public class ArtifactController {
    private final RestClient registry;

    public ArtifactController(RestClient registryClient) {
        this.registry = registryClient;
    }

    @GetMapping
    @Operation(summary = "List artifacts, filtered by model, method, bits, job")
    public Object list(HttpServletRequest request, @RequestParam(required = false) String model, @RequestParam(required = false) String method,
                       @RequestParam(required = false) Integer bits, @RequestParam(required = false) String job) {
        String tenant = Auth.tenant(request);
        return registry.get().uri(b -> b.path("/internal/tenants/{t}/artifacts")
                .queryParamIfPresent("model", Optional.ofNullable(model)).queryParamIfPresent("method", Optional.ofNullable(method))
                .queryParamIfPresent("bits", Optional.ofNullable(bits)).queryParamIfPresent("job", Optional.ofNullable(job)).build(tenant))
                .retrieve().body(Object.class);
    }

    @GetMapping("/{id}")
    @Operation(summary = "An artifact: files with sha256, metrics, lineage (source model, job, recipe, kernels version)")
    public Object get(HttpServletRequest request, @PathVariable String id) {
        Ids.check("id", id);
        return registry.get().uri("/internal/tenants/{t}/artifacts/{id}", Auth.tenant(request), id).retrieve().body(Object.class);
    }

    @GetMapping("/{id}/download")
    @Operation(summary = "Download one file of an artifact; presigned=true answers 303 to a presigned S3 URL instead of streaming")
    public ResponseEntity<Void> download(HttpServletRequest request, HttpServletResponse response, @PathVariable String id,
                                         @RequestParam String path, @RequestParam(defaultValue = "false") boolean presigned) throws IOException {
        String tenant = Auth.tenant(request);
        Ids.check("id", id);
        if (!ModelController.PATH.matcher(path).matches() || path.contains(".."))
            throw new ApiException(HttpStatus.BAD_REQUEST, "invalid path", List.of("path: a file of the artifact (letters, digits, '._-', up to 5 levels)"));
        if (presigned) {
            Map<?, ?> url = registry.get().uri(b -> b.path("/internal/tenants/{t}/artifacts/{id}/url").queryParam("path", path).build(tenant, id))
                    .retrieve().body(Map.class);
            return ResponseEntity.status(HttpStatus.SEE_OTHER).location(URI.create((String) url.get("url"))).build();
        }
        get(request, id);
        registry.get().uri(b -> b.path("/internal/tenants/{t}/artifacts/{id}/file").queryParam("path", path).build(tenant, id))
                .exchange((req, resp) -> {
                    if (resp.getStatusCode().isError()) throw ApiException.notFound("file " + path + " of artifact " + id);
                    response.setContentType(MediaType.APPLICATION_OCTET_STREAM_VALUE);
                    response.setHeader("Content-Disposition", "attachment; filename=\"" + path.replaceAll(".*/", "") + "\"");
                    resp.getBody().transferTo(response.getOutputStream());
                    return null;
                });
        return null;
    }

    @DeleteMapping("/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    public void delete(HttpServletRequest request, @PathVariable String id) {
        Ids.check("id", id);
        registry.delete().uri("/internal/tenants/{t}/artifacts/{id}", Auth.tenant(request), id).retrieve().toBodilessEntity();
    }
}
