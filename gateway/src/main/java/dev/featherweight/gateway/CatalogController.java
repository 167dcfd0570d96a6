package dev.featherweight.gateway;

import dev.featherweight.catalog.Catalog;
import dev.featherweight.catalog.Estimate;
import dev.featherweight.catalog.Problem;
import dev.featherweight.catalog.ResolvedRecipe;
import dev.featherweight.catalog.capacity.Gpu;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.contracts.Recipe;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The engine's catalogue — what {@code fw catalog --json} prints — for the UI and MLOps tools, and a pre-flight
 * estimate of one recipe on one model: output size, peak device memory against the quantizer-worker's simulated
 * GPU, simulated seconds, with the same numbers the worker will check and account.
 */
@RestController
@RequestMapping("/api/v1/catalog")
@Tag(name = "catalog")
public class CatalogController {
    private final RecipeValidation recipes;
    private final Gpu workerGpu;

    public CatalogController(RecipeValidation recipes, GatewayProperties settings) {
        this.recipes = recipes;
        this.workerGpu = CapacityController.CATALOG.get(settings.quantizerGpu());
    }

    @GetMapping
    @Operation(summary = "What the engine can do: methods with their parameters (types, defaults, allowed values, rules), GGUF file types, ggml types, GPUs, KV-cache types")
    public Catalog.Document catalog() {
        return Catalog.builtIn().document(CapacityController.CATALOG);
    }

    /** @param gpu a GPU of the catalogue; left out, the quantizer-worker's simulated GPU */
    public record EstimateRequest(String modelId, Recipe recipe, String gpu) {}

    /**
     * Figures are null when the recipe has problems.
     *
     * @param deviceBytes the GPU's memory, which peakDeviceBytes must not exceed
     * @param resolved    the recipe as it would run (defaults filled, adapted to the model)
     */
    public record EstimateResponse(Long outputBytes, Long peakDeviceBytes, long deviceBytes, String gpu, Boolean fits, Double estimatedSeconds,
                                   List<Problem> problems, Map<String, Long> peakParts, Map<String, Object> resolved) {}

    @PostMapping("/estimate")
    @Operation(summary = "Pre-flight of one recipe on a model: output bytes, peak device memory vs the simulated GPU, whether it fits, estimated seconds, or every problem")
    public EstimateResponse estimate(HttpServletRequest request, @RequestBody EstimateRequest body) {
        String tenant = Auth.tenant(request);
        List<String> errors = new ArrayList<>();
        if (body.modelId() == null || body.modelId().isBlank()) errors.add("modelId: required");
        if (body.recipe() == null) errors.add("recipe: required, e.g. {\"method\":\"gptq\",\"bits\":4}");
        if (body.gpu() != null && !CapacityController.CATALOG.names().contains(body.gpu()))
            errors.add("gpu: '" + body.gpu() + "' is not in the GPU catalog; one of " + CapacityController.CATALOG.names());
        if (!errors.isEmpty()) throw new ApiException(HttpStatus.BAD_REQUEST, "invalid estimate request", errors);
        Gpu gpu = body.gpu() == null ? workerGpu : CapacityController.CATALOG.get(body.gpu());
        ModelShape shape = recipes.shape(tenant, body.modelId());
        List<Problem> problems = recipes.problems(body.recipe(), shape);
        if (!problems.isEmpty()) return new EstimateResponse(null, null, gpu.memoryBytes(), gpu.name(), null, null, problems, null, null);
        ResolvedRecipe resolved = body.recipe().resolve(shape);
        Estimate e = Catalog.builtIn().estimate(resolved, shape);
        return new EstimateResponse(e.outputBytes(), e.peakDeviceBytes(), gpu.memoryBytes(), gpu.name(), e.fits(gpu), e.seconds(gpu), List.of(),
                e.peakParts(), resolved.parameters());
    }
}
