package dev.featherweight.gateway;

import dev.featherweight.contracts.registry.Artifact;
import dev.featherweight.contracts.registry.DownloadUrl;
import dev.featherweight.service.RegistryApi;
import dev.featherweight.service.RegistryFiles;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.*;
import org.springframework.web.client.HttpClientErrorException;

import java.net.URI;
import java.util.List;

/** Artifacts: only complete ones are visible. Download streamed through the gateway, or a presigned S3 URL. */
@RestController
@RequestMapping("/api/v1/artifacts")
@Tag(name = "artifacts")
public class ArtifactController {
    private final RegistryApi registry;
    private final RegistryFiles files;

    public ArtifactController(RegistryApi registry, RegistryFiles files) {
        this.registry = registry;
        this.files = files;
    }

    @GetMapping
    @Operation(summary = "List artifacts, filtered by model, method, bits, job")
    public List<Artifact> list(HttpServletRequest request, @RequestParam(required = false) String model, @RequestParam(required = false) String method,
                               @RequestParam(required = false) Integer bits, @RequestParam(required = false) String job) {
        return registry.artifacts(Auth.tenant(request), model, method, bits, job);
    }

    @GetMapping("/{id}")
    @Operation(summary = "An artifact: files with sha256, metrics, lineage (source model, job, recipe, kernels version)")
    public Artifact get(HttpServletRequest request, @PathVariable String id) {
        Ids.check("id", id);
        return registry.artifact(Auth.tenant(request), id);
    }

    @GetMapping("/{id}/download")
    @Operation(summary = "Download one file of an artifact; presigned=true answers 303 to a presigned S3 URL instead of streaming")
    @ApiResponse(responseCode = "200", description = "the file", content = @Content(mediaType = MediaType.APPLICATION_OCTET_STREAM_VALUE))
    @ApiResponse(responseCode = "303", description = "presigned=true: Location is a presigned S3 URL", content = @Content)
    public ResponseEntity<Void> download(HttpServletRequest request, HttpServletResponse response, @PathVariable String id,
                                         @RequestParam String path, @RequestParam(defaultValue = "false") boolean presigned) {
        String tenant = Auth.tenant(request);
        Ids.check("id", id);
        if (!ModelController.PATH.matcher(path).matches() || path.contains(".."))
            throw new ApiException(HttpStatus.BAD_REQUEST, "invalid path", List.of("path: a file of the artifact (letters, digits, '._-', up to 5 levels)"));
        if (presigned) {
            DownloadUrl url = registry.artifactUrl(tenant, id, path);
            return ResponseEntity.status(HttpStatus.SEE_OTHER).location(URI.create(url.url())).build();
        }
        get(request, id);
        try {
            files.artifactFile(tenant, id, path, in -> {
                response.setContentType(MediaType.APPLICATION_OCTET_STREAM_VALUE);
                response.setHeader("Content-Disposition", "attachment; filename=\"" + path.replaceAll(".*/", "") + "\"");
                return in.transferTo(response.getOutputStream());
            });
        } catch (HttpClientErrorException.NotFound e) {
            throw ApiException.notFound("file " + path + " of artifact " + id);
        }
        return null;
    }

    @DeleteMapping("/{id}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    @Operation(summary = "Delete an artifact and its files")
    public void delete(HttpServletRequest request, @PathVariable String id) {
        Ids.check("id", id);
        registry.deleteArtifact(Auth.tenant(request), id);
    }
}
