package dev.featherweight.gateway;

import dev.featherweight.catalog.capacity.Capacity;
import dev.featherweight.catalog.capacity.CapacityException;
import dev.featherweight.catalog.capacity.CapacityReport;
import dev.featherweight.catalog.capacity.Gpu;
import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.catalog.capacity.KvDType;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.capacity.Precision;
import dev.featherweight.contracts.EvalSpec;
import dev.featherweight.contracts.registry.Artifact;
import dev.featherweight.contracts.registry.FileInfo;
import dev.featherweight.service.RegistryApi;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.*;

import java.util.ArrayList;
import java.util.List;

/**
 * The GPU catalog and a synchronous capacity calculation for a model or an artifact. The math is the catalogue's
 * capacity package (plain Java, the same the eval-worker runs): the gateway needs the model's config.json, not
 * the engine — so it does not ship the kernels.
 */
@RestController
@RequestMapping("/api/v1")
@Tag(name = "capacity")
public class CapacityController {
    static final GpuCatalog CATALOG = GpuCatalog.builtIn();
    private final RegistryApi registry;
    private final RecipeValidation recipes;

    public CapacityController(RegistryApi registry, RecipeValidation recipes) {
        this.registry = registry;
        this.recipes = recipes;
    }

    /** Problems with GPU names of a job's eval spec (the catalogue's GPUs). */
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
            Artifact a = registry.artifact(tenant, body.artifactId());
            model = a.lineage().modelName();
            weightBytes = a.totalBytes();
        } else {
            weightBytes = registry.model(tenant, model).files().stream().filter(f -> f.path().endsWith(".safetensors"))
                    .mapToLong(FileInfo::size).sum();
        }
        ModelShape shape = recipes.shape(tenant, model);
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
