package dev.featherweight.catalog;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One parameter of a method as the catalogue publishes it (a small JSON-Schema-like description a UI can
 * build a form from) and checks it: its JSON type, default, allowed values or numeric range.
 *
 * @param exclusiveMinimum true when {@code minimum} itself is refused (null otherwise, so it is left out of the JSON)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"name", "type", "default", "allowed", "minimum", "exclusiveMinimum", "maximum", "description"})
public record Parameter(String name, Type type, @JsonProperty("default") Object defaultValue, List<Object> allowed,
                        Number minimum, Boolean exclusiveMinimum, Number maximum, String description) {

    public enum Type {
        INTEGER, NUMBER, BOOLEAN, STRING;

        @JsonValue
        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static Parameter integer(String name, int defaultValue, String description) {
        return new Parameter(name, Type.INTEGER, defaultValue, null, null, null, null, description);
    }

    public static Parameter number(String name, double defaultValue, String description) {
        return new Parameter(name, Type.NUMBER, defaultValue, null, null, null, null, description);
    }

    public static Parameter bool(String name, boolean defaultValue, String description) {
        return new Parameter(name, Type.BOOLEAN, defaultValue, null, null, null, null, description);
    }

    public static Parameter string(String name, String defaultValue, String description) {
        return new Parameter(name, Type.STRING, defaultValue, null, null, null, null, description);
    }

    public Parameter allowed(Object... values) {
        return allowed(Arrays.asList(values));
    }

    public Parameter allowed(List<?> values) {
        return new Parameter(name, type, defaultValue, List.copyOf(values), minimum, exclusiveMinimum, maximum, description);
    }

    /** Inclusive range [min, max]. */
    public Parameter range(Number min, Number max) {
        return new Parameter(name, type, defaultValue, allowed, min, null, max, description);
    }

    /** Range (min, max]: min itself refused. */
    /** The same parameter described for another method (e.g. a shared group size with method-specific defaults). */
    public Parameter withDescription(String d) {
        return new Parameter(name, type, defaultValue, allowed, minimum, exclusiveMinimum, maximum, d);
    }

    public Parameter rangeAboveMin(Number min, Number max) {
        return new Parameter(name, type, defaultValue, allowed, min, Boolean.TRUE, max, description);
    }

    /** Adds to {@code problems} what is wrong with {@code value} (null = absent, takes the default: nothing wrong). */
    public void check(Object value, String path, List<Problem> problems) {
        if (value == null) return;
        String field = path + "." + name;
        String wrongType = switch (type) {
            case INTEGER -> value instanceof Number n && isIntegral(n) ? null : "an integer";
            case NUMBER -> value instanceof Number n && Double.isFinite(n.doubleValue()) ? null : "a finite number";
            case BOOLEAN -> value instanceof Boolean ? null : "true or false";
            case STRING -> value instanceof String ? null : "a string";
        };
        if (wrongType != null) {
            problems.add(new Problem(field, "must be " + wrongType + ", got " + value));
            return;
        }
        if (allowed != null && allowed.stream().noneMatch(a -> same(a, value))) {
            problems.add(new Problem(field, value + " is not allowed; one of " + allowed));
            return;
        }
        if (value instanceof Number n && (minimum != null || maximum != null)) {
            double v = n.doubleValue();
            boolean low = minimum != null && (Boolean.TRUE.equals(exclusiveMinimum) ? v <= minimum.doubleValue() : v < minimum.doubleValue());
            boolean high = maximum != null && v > maximum.doubleValue();
            if (low || high) problems.add(new Problem(field, "must be " + rangeText() + ", got " + value));
        }
    }

    private String rangeText() {
        List<String> parts = new ArrayList<>();
        if (minimum != null) parts.add((Boolean.TRUE.equals(exclusiveMinimum) ? "> " : ">= ") + minimum);
        if (maximum != null) parts.add("<= " + maximum);
        return String.join(" and ", parts);
    }

    private static boolean isIntegral(Number n) {
        if (n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte) return true;
        double d = n.doubleValue();
        return Double.isFinite(d) && d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE;
    }

    private static boolean same(Object allowedValue, Object value) {
        if (allowedValue instanceof Number a && value instanceof Number v) return a.doubleValue() == v.doubleValue();
        return allowedValue.equals(value);
    }
}
