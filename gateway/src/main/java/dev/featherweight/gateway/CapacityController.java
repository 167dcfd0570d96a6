package dev.featherweight.gateway;

import dev.featherweight.contracts.EvalSpec;
import dev.featherweight.kernels.capacity.Capacity;
import dev.featherweight.kernels.capacity.CapacityException;
import dev.featherweight.kernels.capacity.CapacityReport;
import dev.featherweight.kernels.capacity.Gpu;
import dev.featherweight.kernels.capacity.GpuCatalog;
import dev.featherweight.kernels.capacity.KvDType;
import dev.featherweight.kernels.capacity.ModelShape;
import dev.featherweight.kernels.capacity.Precision;
import dev.featherweight.kernels.formats.hf.LlamaConfig;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.*;
import org.springframework.web.client.RestClient;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The GPU catalog and a synchronous capacity calculation for a model or an artifact (the kernels' capacity package). */
@RestController
@RequestMapping("/api/v1")
@Tag(name = "capacity")
public class CapacityController {
    static final GpuCatalog CATALOG = GpuCatalog.builtIn();
    private final RestClient registry;

    public CapacityController(RestClient registryClient) {
        this.registry = registryClient;
    }

    /** Problems with GPU names of a job's eval spec (the catalog is the kernels'). */
    static List<String> unknownGpus(EvalSpec eval) {
        List<String> errors = new ArrayList<>();
        if (eval == null || eval.capacity() == null || eval.capacity().gpus() == null) return errors;
        List<String> gpus = eval.capacity().gpus();
        for (int i = 0; i < gpus.size(); i++)
            if (!CATALOG.names().contains(gpus.get(i)))
                errors.add("eval.capacity.gpus[" + i + "]: '" + gpus.get(i) + "' is not in the GPU catalog; one of " + CATALOG.names());
        return errors;
    }

    @GetMapping("/gpus")
    @Operation(summary = "The GPU catalog: memory (bytes), bandwidth (bytes/s), dense FP16 FLOP/s, INT8 OP/s, hourly price")
    public List<Gpu> gpus() {
        return CATALOG.all();
    }

    public record CapacityRequest(String modelId, String artifactId, List<String> gpus, int ctx, String kvDtype) {}

    public record Row(String gpu, CapacityReport report, String problem) {}

    public record CapacityResponse(String model, String artifactId, long weightBytes, List<Row> rows) {}

    @PostMapping("/capacity")
    @Operation(summary = "KV-cache capacity, sequences and decode throughput per GPU for a model (its safetensors bytes) or an artifact (its bytes)")
    public CapacityResponse capacity(HttpServletRequest request, @RequestBody CapacityRequest body) throws Exception {
        String tenant = Auth.tenant(request);
        List<String> errors = new ArrayList<>();
        if ((body.modelId() == null) == (body.artifactId() == null)) errors.add("modelId or artifactId: exactly one");
        EvalSpec spec = new EvalSpec(null, new EvalSpec.Capacity(body.gpus(), body.ctx(), body.kvDtype()));
        spec.validate("eval", errors);
        if (errors.isEmpty()) errors.addAll(unknownGpus(spec));
        if (!errors.isEmpty())
            throw new ApiException(HttpStatus.BAD_REQUEST, "invalid capacity request", errors.stream().map(e -> e.replaceFirst("^eval\\.capacity\\.", "")).toList());
        String model = body.modelId();
        long weightBytes;
        if (body.artifactId() != null) {
            Map<?, ?> a = registry.get().uri("/internal/tenants/{t}/artifacts/{id}", tenant, body.artifactId()).retrieve().body(Map.class);
            model = (String) ((Map<?, ?>) a.get("lineage")).get("modelName");
            weightBytes = ((Number) a.get("totalBytes")).longValue();
        } else {
            Map<?, ?> m = registry.get().uri("/internal/tenants/{t}/models/{n}", tenant, model).retrieve().body(Map.class);
            weightBytes = ((List<?>) m.get("files")).stream().map(f -> (Map<?, ?>) f)
                    .filter(f -> String.valueOf(f.get("path")).endsWith(".safetensors")).mapToLong(f -> ((Number) f.get("size")).longValue()).sum();
        }
        String name = model;
        byte[] config = registry.get().uri(b -> b.path("/internal/tenants/{t}/models/{n}/file").queryParam("path", "config.json").build(tenant, name))
                .retrieve().body(byte[].class);
        Path dir = Files.createTempDirectory("fw-config");
        ModelShape shape;
        try {
            Files.write(dir.resolve("config.json"), config);
            try {
                shape = ModelShape.of(name, LlamaConfig.read(dir));
            } catch (RuntimeException e) { // the tenant's own upload: its fault, not ours
                throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "unreadable-model-config",
                        "config.json of model " + name + " is not a readable Hugging Face Llama config", List.of());
            }
        } finally {
            Files.deleteIfExists(dir.resolve("config.json"));
            Files.deleteIfExists(dir);
        }
        KvDType kv = KvDType.parse(body.kvDtype());
        List<Row> rows = new ArrayList<>();
        for (String g : body.gpus()) {
            try {
                rows.add(new Row(g, Capacity.compute(shape, CATALOG.get(g), weightBytes, body.ctx(), kv, Capacity.DEFAULT_UTILIZATION,
                        Capacity.defaultOverheadBytes(shape), Precision.FP16, 1), null));
            } catch (CapacityException e) {
                rows.add(new Row(g, null, e.getMessage()));
            }
        }
        return new CapacityResponse(model, body.artifactId(), weightBytes, rows);
    }
}
