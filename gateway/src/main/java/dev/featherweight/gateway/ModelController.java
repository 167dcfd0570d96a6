package dev.featherweight.gateway;

import dev.featherweight.contracts.jobs.JobPage;
import dev.featherweight.contracts.jobs.JobState;
import dev.featherweight.contracts.registry.Model;
import dev.featherweight.contracts.registry.NewModel;
import dev.featherweight.service.JobsApi;
import dev.featherweight.service.RegistryApi;
import dev.featherweight.service.RegistryFiles;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.*;
import org.springframework.web.multipart.MultipartFile;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.regex.Pattern;

/** Models: upload a Hugging Face folder (files, or one .tar / .zip) or import one by reference (s3://, hf://). */
@RestController
@RequestMapping("/api/v1/models")
@Tag(name = "models")
public class ModelController {
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    static final Pattern PATH = Pattern.compile("([A-Za-z0-9._-]+/){0,4}[A-Za-z0-9._-]+");

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ModelController.class);
    private final RegistryApi registry;
    private final RegistryFiles files;
    private final JobsApi jobs;
    private final Importer importer;
    private final TenantLimits limits;

    public ModelController(RegistryApi registry, RegistryFiles files, JobsApi jobs, Importer importer, TenantLimits limits) {
        this.registry = registry;
        this.files = files;
        this.jobs = jobs;
        this.importer = importer;
        this.limits = limits;
    }

    interface Filling {
        void run() throws IOException;
    }

    /** Fills a model just created; if anything fails (a refused path, the storage limit, a broken archive) the model goes, files and all. */
    private Model createAndFill(String tenant, String name, String source, Filling fill) throws IOException {
        create(tenant, name, source);
        try {
            fill.run();
            return registry.markModelReady(tenant, name);
        } catch (IOException | RuntimeException e) {
            try {
                registry.deleteModel(tenant, name);
            } catch (RuntimeException cleanup) {
                log.warn("removing the failed model {}/{} failed: {}", tenant, name, cleanup.toString());
            }
            if (e instanceof ModelArchives.Malformed || e instanceof java.util.zip.ZipException || e instanceof java.io.EOFException || e instanceof NumberFormatException)
                throw new ApiException(HttpStatus.BAD_REQUEST, "malformed-archive", "the archive is not a readable .tar or .zip", List.of());
            throw e;
        }
    }

    @PostMapping(consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    @ResponseStatus(HttpStatus.CREATED)
    @Operation(summary = "Upload a model: multipart 'files' (each file's name is its path in the folder) or one 'archive' (.tar or .zip)")
    public Model upload(HttpServletRequest request, @RequestParam String name,
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
                    ModelArchives.read(fn, in, (path, body) -> put(tenant, name, path, body));
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
    public Model importModel(HttpServletRequest request, @RequestBody ImportRequest body) throws IOException {
        String tenant = Auth.tenant(request);
        checkName(body.name());
        if (body.source() == null || !(body.source().startsWith("s3://") || body.source().startsWith("hf://")))
            throw new ApiException(HttpStatus.BAD_REQUEST, "invalid import", List.of("source: s3://bucket/prefix or hf://org/name[@revision]"));
        importer.checkAllowed(tenant, body.source());
        return createAndFill(tenant, body.name(), body.source(),
                () -> importer.copy(tenant, body.source(), body.token(), (path, in) -> put(tenant, body.name(), path, in)));
    }

    @DeleteMapping("/{name}")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    @Operation(summary = "Delete a model and its files (409 while a submitted or running job uses it; its artifacts stay)")
    public void delete(HttpServletRequest request, @PathVariable String name) {
        String tenant = Auth.tenant(request);
        get(request, name); // 404 for an unknown model
        for (JobState state : List.of(JobState.SUBMITTED, JobState.RUNNING)) {
            JobPage page = jobs.jobs(tenant, state, name, 0, 1);
            if (page.total() > 0)
                throw new ApiException(HttpStatus.CONFLICT, "model-in-use", "model " + name + " is used by " + page.total() + " "
                        + state.name().toLowerCase() + " job(s); cancel them or wait until they finish", List.of());
        }
        registry.deleteModel(tenant, name);
    }

    @GetMapping
    @Operation(summary = "The tenant's models, with their files and cached metrics")
    public List<Model> list(HttpServletRequest request) {
        return registry.models(Auth.tenant(request));
    }

    @GetMapping("/{name}")
    @Operation(summary = "A model: state, source, files with sha256, cached metrics")
    public Model get(HttpServletRequest request, @PathVariable String name) {
        checkName(name);
        return registry.model(Auth.tenant(request), name);
    }

    @GetMapping("/{name}/download")
    @Operation(summary = "Download one file of a model (e.g. config.json for its architecture)")
    public void download(HttpServletRequest request, jakarta.servlet.http.HttpServletResponse response, @PathVariable String name,
                         @RequestParam String path) {
        String tenant = Auth.tenant(request);
        checkName(name);
        checkPath(path);
        try {
            files.modelFile(tenant, name, path, in -> {
                response.setContentType(path.endsWith(".json") ? MediaType.APPLICATION_JSON_VALUE : MediaType.APPLICATION_OCTET_STREAM_VALUE);
                response.setHeader("Content-Disposition", "attachment; filename=\"" + path.replaceAll(".*/", "") + "\"");
                return in.transferTo(response.getOutputStream());
            });
        } catch (org.springframework.web.client.HttpClientErrorException.NotFound e) {
            throw ApiException.notFound("file " + path + " of model " + name);
        }
    }

    private void create(String tenant, String name, String source) {
        registry.createModel(tenant, new NewModel(name, source));
    }

    static void checkPath(String path) {
        if (path == null || path.length() > 500 || !PATH.matcher(path).matches() || path.contains(".."))
            throw new ApiException(HttpStatus.BAD_REQUEST, "file path is not allowed", List.of("path: letters, digits, '._-', up to 5 levels, no '..'"));
    }

    void put(String tenant, String name, String path, InputStream body) {
        checkPath(path);
        files.putModelFile(tenant, name, path, null, body::transferTo);
    }

    private static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches())
            throw new ApiException(HttpStatus.BAD_REQUEST, "invalid model name", List.of("name: 1-128 letters, digits, '.', '_' or '-'"));
    }
}
