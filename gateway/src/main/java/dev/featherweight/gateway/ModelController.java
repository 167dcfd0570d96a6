package dev.featherweight.gateway;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.*;
import org.springframework.web.client.RestClient;
import org.springframework.web.multipart.MultipartFile;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/** Models: upload a Hugging Face folder (files, or one .tar / .zip) or import one by reference (s3://, hf://). */
@RestController
@RequestMapping("/api/v1/models")
@Tag(name = "models")
public class ModelController {
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    static final Pattern PATH = Pattern.compile("([A-Za-z0-9._-]+/){0,4}[A-Za-z0-9._-]+");

    private final RestClient registry;
    private final RestClient jobs;
    private final Importer importer;

    public ModelController(RestClient registryClient, RestClient jobsClient, Importer importer) {
        this.registry = registryClient;
        this.jobs = jobsClient;
        this.importer = importer;
    }

    /** The body of an upload or import after the model row exists: on any failure the half-stored model is removed, so the name can be used again. */
    @FunctionalInterface
    interface Transfer {
        void run() throws IOException;
    }

    private Map<?, ?> storeOrRemove(String tenant, String name, Transfer transfer) throws IOException {
        try {
            transfer.run();
            return registry.post().uri("/internal/tenants/{t}/models/{n}/ready", tenant, name).retrieve().body(Map.class);
        } catch (IOException | RuntimeException failure) {
            try {
                registry.delete().uri("/internal/tenants/{t}/models/{n}", tenant, name).retrieve().toBodilessEntity();
            } catch (RuntimeException cleanup) { // the registry's abandoned-upload sweep removes it later
                failure.addSuppressed(cleanup);
            }
            throw failure;
        }
    }

    @PostMapping(consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    @ResponseStatus(HttpStatus.CREATED)
    @Operation(summary = "Upload a model: multipart 'files' (each file's name is its path in the folder) or one 'archive' (.tar or .zip)")
    public Map<?, ?> upload(HttpServletRequest request, @RequestParam String name,
                            @RequestPart(required = false) List<MultipartFile> files,
                            @RequestPart(required = false) MultipartFile archive) throws IOException {
        String tenant = Auth.tenant(request);
        checkName(name);
        if ((files == null || files.isEmpty()) == (archive == null))
            throw new ApiException(HttpStatus.BAD_REQUEST, "send either 'files' or one 'archive'");
        String fn = archive == null || archive.getOriginalFilename() == null ? "" : archive.getOriginalFilename();
        if (archive != null && !fn.endsWith(".zip") && !fn.endsWith(".tar"))
            throw new ApiException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "archive must be .tar or .zip, got '" + fn + "'");
        create(tenant, name, archive == null ? "upload" : "upload:" + fn);
        return storeOrRemove(tenant, name, () -> {
            if (archive != null) {
                try (InputStream in = archive.getInputStream()) {
                    if (fn.endsWith(".zip")) unzip(tenant, name, in);
                    else Tar.read(in, (path, body) -> put(tenant, name, strip(path), body));
                }
            } else {
                for (MultipartFile f : files) {
                    try (InputStream in = f.getInputStream()) {
                        put(tenant, name, f.getOriginalFilename(), in);
                    }
                }
            }
        });
    }

    public record ImportRequest(String name, String source, String token) {}

    @PostMapping(path = "/import", consumes = MediaType.APPLICATION_JSON_VALUE)
    @ResponseStatus(HttpStatus.CREATED)
    @Operation(summary = "Import a model by reference: s3://bucket/prefix or hf://org/name@revision (optional Hub token)")
    public Map<?, ?> importModel(HttpServletRequest request, @RequestBody ImportRequest body) throws IOException {
        String tenant = Auth.tenant(request);
        checkName(body.name());
        if (body.source() == null || !(body.source().startsWith("s3://") || body.source().startsWith("hf://")))
            throw new ApiException(HttpStatus.BAD_REQUEST, "invalid import", List.of("source: s3://bucket/prefix or hf://org/name[@revision]"));
        create(tenant, body.name(), body.source());
        return storeOrRemove(tenant, body.name(), () -> importer.copy(body.source(), body.token(), (path, in) -> put(tenant, body.name(), path, in)));
    }

    @DeleteMapping("/{name}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    @Operation(summary = "Delete a model and its files (409 while a submitted or running job uses it; its artifacts stay)")
    public void delete(HttpServletRequest request, @PathVariable String name) {
        String tenant = Auth.tenant(request);
        get(request, name); // 404 for an unknown model
        for (String state : List.of("SUBMITTED", "RUNNING")) {
            Map<?, ?> page = jobs.get().uri(b -> b.path("/internal/jobs").queryParam("tenant", tenant).queryParam("model", name)
                    .queryParam("state", state).queryParam("size", 1).build()).retrieve().body(Map.class);
            if (page != null && ((Number) page.get("total")).longValue() > 0)
                throw new ApiException(HttpStatus.CONFLICT, "model " + name + " is used by " + page.get("total") + " " + state.toLowerCase()
                        + " job(s); cancel them or wait until they finish");
        }
        registry.delete().uri("/internal/tenants/{t}/models/{n}", tenant, name).retrieve().toBodilessEntity();
    }

    @GetMapping
    public Object list(HttpServletRequest request) {
        return registry.get().uri("/internal/tenants/{t}/models", Auth.tenant(request)).retrieve().body(Object.class);
    }

    @GetMapping("/{name}")
    public Object get(HttpServletRequest request, @PathVariable String name) {
        return registry.get().uri("/internal/tenants/{t}/models/{n}", Auth.tenant(request), name).retrieve().body(Object.class);
    }

    private void create(String tenant, String name, String source) {
        registry.post().uri("/internal/tenants/{t}/models", tenant).body(Map.of("name", name, "source", source)).retrieve().toBodilessEntity();
    }

    void put(String tenant, String name, String path, InputStream body) {
        if (path == null || !PATH.matcher(path).matches() || path.contains(".."))
            throw new ApiException(HttpStatus.BAD_REQUEST, "file path '" + path + "' is not allowed (letters, digits, '._-', up to 5 levels)");
        registry.put().uri(b -> b.path("/internal/tenants/{t}/models/{n}/files").queryParam("path", path).build(tenant, name))
                .contentType(MediaType.APPLICATION_OCTET_STREAM)
                .body(out -> body.transferTo(out)).retrieve().toBodilessEntity();
    }

    private void unzip(String tenant, String name, InputStream in) throws IOException {
        try (ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                if (!e.isDirectory()) put(tenant, name, strip(e.getName()), new java.io.FilterInputStream(zip) {
                    @Override public void close() {}
                });
            }
        }
    }

    /** Archives usually hold one top folder ("feather-3m/config.json"): files are stored relative to it. */
    static String strip(String path) {
        if (path.startsWith("./")) path = path.substring(2);
        int slash = path.indexOf('/');
        return slash > 0 && path.indexOf('/', slash + 1) < 0 && !path.startsWith(".") ? path.substring(slash + 1) : path;
    }

    private static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches())
            throw new ApiException(HttpStatus.BAD_REQUEST, "invalid model name", List.of("name: 1-128 letters, digits, '.', '_' or '-'"));
    }
}
