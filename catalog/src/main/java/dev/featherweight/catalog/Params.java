package dev.featherweight.catalog;

import java.util.Map;

/**
 * A recipe's parameters with every absent one filled from its descriptor's default. Only built from values
 * that passed {@link Parameter#check}, so the accessors' conversions cannot fail.
 */
public final class Params {
    private final Map<String, Object> values;

    Params(Map<String, Object> values) {
        this.values = values;
    }

    private Object get(String name) {
        Object v = values.get(name);
        if (v == null) throw new IllegalArgumentException("no parameter '" + name + "'");
        return v;
    }

    public int integer(String name) {
        return ((Number) get(name)).intValue();
    }

    public double number(String name) {
        return ((Number) get(name)).doubleValue();
    }

    public boolean bool(String name) {
        return (Boolean) get(name);
    }

    public String string(String name) {
        return (String) get(name);
    }

    /** Whether the recipe gave this parameter itself (rather than taking the default). */
    public boolean given(String name, Map<String, Object> recipe) {
        return recipe.get(name) != null;
    }
}
