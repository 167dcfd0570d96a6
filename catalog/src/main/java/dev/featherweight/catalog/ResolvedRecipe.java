package dev.featherweight.catalog;

/**
 * A recipe the engine can run as is: every parameter present (defaults filled), valid, and — when the model's
 * shape was known — adapted to it (calibration length capped to the model's context). Each method's
 * descriptor defines its own record (e.g. {@link dev.featherweight.catalog.methods.GptqMethod.Resolved}), so a
 * new method brings its resolved type in its one class; the engine maps from these typed records.
 */
public interface ResolvedRecipe {

    /** The recipe as JSON-ready parameters — {@code method} then every parameter as run — for an artifact's lineage. */
    default java.util.Map<String, Object> parameters() {
        java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("method", method());
        for (java.lang.reflect.RecordComponent c : getClass().getRecordComponents()) {
            try {
                m.put(c.getName(), c.getAccessor().invoke(this));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return m;
    }

    /** Method name as in JSON ("gptq"). */
    String method();

    /** Nominal bits per weight (for filtering artifacts). */
    int nominalBits();

    /** Short human label, e.g. "gguf Q4_K_M" or "gptq 4-bit g128". */
    String label();
}
