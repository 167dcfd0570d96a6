package dev.featherweight.gateway;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.featherweight.catalog.Problem;
import dev.featherweight.catalog.capacity.CapacityException;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.contracts.JobSpec;
import dev.featherweight.contracts.Recipe;
import dev.featherweight.service.RegistryApi;
import dev.featherweight.service.RegistryFiles;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.client.HttpClientErrorException;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Submit-time checks of recipes against the engine's catalogue that need the model: group sizes that divide its
 * rows, calibration no longer than its context. (The checks that need no model — types, allowed values, ranges,
 * rules between parameters — run in {@link JobSpec#problems()}, which asks the same catalogue.) The model's shape
 * comes from its config.json in the registry, parsed by the catalogue; it is remembered for a minute, as the
 * model's READY state is (a Caffeine cache, {@code featherweight.gateway.ready-model-ttl}), so a burst of submissions
 * does not queue on the registry.
 */
@Component
public class RecipeValidation {
    private record ModelKey(String tenant, String model) {}

    private final RegistryApi registry;
    private final RegistryFiles files;
    private final Cache<ModelKey, ModelShape> shapes;

    public RecipeValidation(RegistryApi registry, RegistryFiles files, GatewayProperties settings) {
        this.registry = registry;
        this.files = files;
        this.shapes = Caffeine.newBuilder().expireAfterWrite(settings.gateway().readyModelTtl()).maximumSize(10_000).build();
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
        if (s == null) registry.model(tenant, model); // 404 for an unknown model
        if (s == null) throw new ApiException(HttpStatus.BAD_REQUEST, "model " + model + " has no config.json", List.of("modelId: " + model + " has no config.json"));
        return s;
    }

    private ModelShape shapeOrNull(String tenant, String model) {
        ModelKey key = new ModelKey(tenant, model);
        ModelShape remembered = shapes.getIfPresent(key);
        if (remembered != null) return remembered;
        byte[] config;
        try {
            config = files.modelFile(tenant, model, "config.json", InputStream::readAllBytes);
        } catch (HttpClientErrorException.NotFound e) {
            return null;
        }
        ModelShape shape;
        try {
            shape = ModelShape.fromConfigJson(model, config == null ? new byte[0] : config);
        } catch (CapacityException e) {
            throw new ApiException(HttpStatus.BAD_REQUEST, "the model's config.json cannot be read", List.of("modelId: " + e.getMessage()));
        }
        shapes.put(key, shape);
        return shape;
    }
}
