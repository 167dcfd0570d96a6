package dev.featherweight.contracts;

import java.util.ArrayList;
import java.util.List;

/**
 * A job as a user submits it: a model, one recipe or a sweep of several, and an optional evaluation. A recommend job
 * ({@code recommend} set, made by the gateway from a recommendation request) is the same sweep — its recipes are the
 * candidates that survived pruning, possibly none — plus the question its measured numbers answer.
 */
public record JobSpec(String modelId, List<Recipe> recipes, EvalSpec eval,
                      @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL) RecommendSpec recommend) {

    public JobSpec(String modelId, List<Recipe> recipes, EvalSpec eval) {
        this(modelId, recipes, eval, null);
    }

    public static final int MAX_RECIPES = 32;

    /** Every problem of this spec, each naming the JSON path; empty when valid. */
    public List<String> problems() {
        List<String> errors = new ArrayList<>();
        Checks.id(errors, "modelId", modelId);
        int least = recommend == null ? 1 : 0; // every candidate of a recommendation may have been pruned
        if (recipes == null || recipes.size() < least || recipes.size() > MAX_RECIPES)
            errors.add("recipes: " + least + " to " + MAX_RECIPES + " recipes");
        else for (int i = 0; i < recipes.size(); i++) {
            Recipe r = recipes.get(i);
            if (r == null) errors.add("recipes[" + i + "]: null");
            else r.validate("recipes[" + i + "]", errors);
        }
        if (eval != null) eval.validate("eval", errors);
        if (recommend != null) recommend.validate("recommend.", dev.featherweight.catalog.capacity.GpuCatalog.builtIn(), errors);
        return errors;
    }
}
