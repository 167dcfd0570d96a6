package dev.featherweight.gateway;

import dev.featherweight.catalog.Problem;
import dev.featherweight.catalog.capacity.CapacityException;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.contracts.JobSpec;
import dev.featherweight.contracts.Recipe;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.RestClient;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Submit-time checks of recipes against the engine's catalogue that need the model: group sizes that divide its
 * rows, calibration no longer than its context. (The checks that need no model — types, allowed values, ranges,
 * rules between parameters — run in {@link JobSpec#problems()}, which asks the same catalogue.) The model's shape
 * comes from its config.json in the registry, parsed by the catalogue; it is remembered for a minute, as the
 * model's READY state is, so a burst of submissions does not queue on the registry.
 */
@Component
public class RecipeValidation {
    private static final long REMEMBER_MS = 60_000;

    private record Remembered(ModelShape shape, long until) {}

    private final RestClient registry;
    private final Map<String, Remembered> shapes = new ConcurrentHashMap<>();

    public RecipeValidation(RestClient registryClient) {
        this.registry = registryClient;
    }

    /** Problems the model imposes on the spec's recipes, each "recipes[i].field: message"; none when the model has no config.json. */
    public List<String> problems(String tenant, JobSpec spec) {
        ModelShape shape = shapeOrNull(tenant, spec.modelId());
        List<String> errors = new ArrayList<>();
        if (shape == null) return errors;
        for (int i = 0; i < spec.recipes().size(); i++) {
            for (Problem p : spec.recipes().get(i).problems("recipes[" + i + "]", shape)) errors.add(p.toString());
        }
        return errors;
    }

    /** Every problem of one recipe for this model (the pre-flight's list). */
    public List<Problem> problems(Recipe recipe, ModelShape shape) {
        return recipe.problems("recipe", shape);
    }

    /** The model's shape; 404 for an unknown model, 400 when its config.json is missing or not a Llama-family config. */
    public ModelShape shape(String tenant, String model) {
        ModelShape s = shapeOrNull(tenant, model);
        if (s == null) registry.get().uri("/internal/tenants/{t}/models/{n}", tenant, model).retrieve().toBodilessEntity(); // 404 for an unknown model
        if (s == null) throw new ApiException(HttpStatus.BAD_REQUEST, "model " + model + " has no config.json", List.of("modelId: " + model + " has no config.json"));
        return s;
    }

    private ModelShape shapeOrNull(String tenant, String model) {
        String key = tenant + "\n" + model;
        Remembered r = shapes.get(key);
        if (r != null && r.until() > System.currentTimeMillis()) return r.shape();
        byte[] config;
        try {
            config = registry.get().uri(b -> b.path("/internal/tenants/{t}/models/{n}/file").queryParam("path", "config.json").build(tenant, model))
                    .retrieve().body(byte[].class);
        } catch (HttpClientErrorException.NotFound e) {
            return null;
        }
        ModelShape shape;
        try {
            shape = ModelShape.fromConfigJson(model, config == null ? new byte[0] : config);
        } catch (CapacityException e) {
            throw new ApiException(HttpStatus.BAD_REQUEST, "the model's config.json cannot be read", List.of("modelId: " + e.getMessage()));
        }
        shapes.put(key, new Remembered(shape, System.currentTimeMillis() + REMEMBER_MS));
        return shape;
    }
}
