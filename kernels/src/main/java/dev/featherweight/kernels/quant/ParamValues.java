package dev.featherweight.kernels.quant;

import java.util.Map;

/** Typed reads of a recipe's name → value map (JSON numbers and booleans, or their text from a command line), with defaults. */
public final class ParamValues {
    private final Map<String, ?> values;

    public ParamValues(Map<String, ?> values) {
        this.values = values;
    }

    public boolean has(String name) {
        return values.get(name) != null;
    }

    public int integer(String name, int defaultValue) {
        Object v = values.get(name);
        if (v == null) return defaultValue;
        if (v instanceof Number n && n.doubleValue() == n.intValue()) return n.intValue();
        if (v instanceof String s) {
            try {
                return Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException(name + " must be an integer, got " + v);
    }

    public double number(String name, double defaultValue) {
        Object v = values.get(name);
        if (v == null) return defaultValue;
        if (v instanceof Number n) return n.doubleValue();
        if (v instanceof String s) {
            try {
                return Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException(name + " must be a number, got " + v);
    }

    public boolean bool(String name, boolean defaultValue) {
        Object v = values.get(name);
        if (v == null) return defaultValue;
        if (v instanceof Boolean b) return b;
        if ("true".equals(v) || "false".equals(v)) return Boolean.parseBoolean((String) v);
        throw new IllegalArgumentException(name + " must be true or false, got " + v);
    }
}
