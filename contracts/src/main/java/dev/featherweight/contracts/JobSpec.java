package dev.featherweight.contracts;

import java.util.ArrayList;
import java.util.List;

/** A job as a user submits it: a model, one recipe or a sweep of several, and an optional evaluation. */
public record JobSpec(String modelId, List<Recipe> recipes, EvalSpec eval) {

    public static final int MAX_RECIPES = 32;

    /** Every problem of this spec, each naming the JSON path; empty when valid. */
    public List<String> problems() {
        List<String> errors = new ArrayList<>();
        Checks.id(errors, "modelId", modelId);
        if (recipes == null || recipes.isEmpty() || recipes.size() > MAX_RECIPES)
            errors.add("recipes: 1 to " + MAX_RECIPES + " recipes");
        else for (int i = 0; i < recipes.size(); i++) {
            Recipe r = recipes.get(i);
            if (r == null) errors.add("recipes[" + i + "]: null");
            else r.validate("recipes[" + i + "]", errors);
        }
        if (eval != null) eval.validate("eval", errors);
        return errors;
    }
}
