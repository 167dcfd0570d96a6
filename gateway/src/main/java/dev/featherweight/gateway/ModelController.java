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

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ModelController.class);
    private final RestClient registry;
    private final Importer importer;
    private final TenantLimits limits;

    public ModelController(RestClient registryClient, Importer importer, TenantLimits limits) {
        this.registry = registryClient;
        this.importer = importer;
        this.limits = limits;
    }

    interface Filling {
        void run() throws IOException;
    }

    /** Fills a model just created; if anything fails (a refused path, the storage limit, a broken archive) the model goes, files and all. */
    private Map<?, ?> createAndFill(String tenant, String name, String source, Filling fill) throws IOException {
        create(tenant, name, source);
        try {
            fill.run();
            return registry.post().uri("/internal/tenants/{t}/models/{n}/ready", tenant, name).retrieve().body(Map.class);
        } catch (IOException | RuntimeException e) {
            try {
                registry.delete().uri("/internal/tenants/{t}/models/{n}", tenant, name).retrieve().toBodilessEntity();
            } catch (RuntimeException cleanup) {
                log.warn("removing the failed model {}/{} failed: {}", tenant, name, cleanup.toString());
            }
            if (e instanceof java.util.zip.ZipException || e instanceof java.io.EOFException || e instanceof NumberFormatException)
                throw new ApiException(HttpStatus.BAD_REQUEST, "malformed-archive", "the archive is not a readable .tar or .zip", List.of());
            throw e;
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
            throw new ApiException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "archive must be .tar or .zip");
        long bytes = archive != null ? archive.getSize() : files.stream().mapToLong(MultipartFile::getSize).sum();
        Long uploadLimit = limits.of(tenant).uploadBytes();
        if (uploadLimit != null && bytes > uploadLimit)
            throw new ApiException(HttpStatus.CONTENT_TOO_LARGE, "upload-limit", "the upload has " + bytes + " bytes, the tenant's upload limit is " + uploadLimit, List.of());
        if (files != null) for (MultipartFile f : files) checkPath(f.getOriginalFilename()); // before anything is stored
        return createAndFill(tenant, name, archive == null ? "upload" : "upload:" + fn, () -> {
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
        importer.checkAllowed(tenant, body.source());
        return createAndFill(tenant, body.name(), body.source(),
                () -> importer.copy(tenant, body.source(), body.token(), (path, in) -> put(tenant, body.name(), path, in)));
    }

    @GetMapping
    public Object list(HttpServletRequest request) {
        return registry.get().uri("/internal/tenants/{t}/models", Auth.tenant(request)).retrieve().body(Object.class);
    }

    @GetMapping("/{name}")
    public Object get(HttpServletRequest request, @PathVariable String name) {
        checkName(name);
        return registry.get().uri("/internal/tenants/{t}/models/{n}", Auth.tenant(request), name).retrieve().body(Object.class);
    }

    @GetMapping("/{name}/download")
    @Operation(summary = "Download one file of a model (e.g. config.json for its architecture)")
    public void download(HttpServletRequest request, jakarta.servlet.http.HttpServletResponse response, @PathVariable String name,
                         @RequestParam String path) {
        String tenant = Auth.tenant(request);
        checkName(name);
        checkPath(path);
        registry.get().uri(b -> b.path("/internal/tenants/{t}/models/{n}/file").queryParam("path", path).build(tenant, name))
                .exchange((req, resp) -> {
                    if (resp.getStatusCode().isError()) throw ApiException.notFound("file " + path + " of model " + name);
                    response.setContentType(path.endsWith(".json") ? MediaType.APPLICATION_JSON_VALUE : MediaType.APPLICATION_OCTET_STREAM_VALUE);
                    response.setHeader("Content-Disposition", "attachment; filename=\"" + path.replaceAll(".*/", "") + "\"");
                    resp.getBody().transferTo(response.getOutputStream());
                    return null;
                });
    }

    private void create(String tenant, String name, String source) {
        registry.post().uri("/internal/tenants/{t}/models", tenant).body(Map.of("name", name, "source", source)).retrieve().toBodilessEntity();
    }

    static void checkPath(String path) {
        if (path == null || path.length() > 500 || !PATH.matcher(path).matches() || path.contains(".."))
            throw new ApiException(HttpStatus.BAD_REQUEST, "file path is not allowed", List.of("path: letters, digits, '._-', up to 5 levels, no '..'"));
    }

    void put(String tenant, String name, String path, InputStream body) {
        checkPath(path);
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
