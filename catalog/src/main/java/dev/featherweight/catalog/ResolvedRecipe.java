package dev.featherweight.catalog;

/**
 * A recipe the engine can run as is: every parameter present (defaults filled), valid, and — when the model's
 * shape was known — adapted to it (calibration length capped to the model's context). Each method's
 * descriptor defines its own record (e.g. {@link dev.featherweight.catalog.methods.GptqMethod.Resolved}), so a
 * new method brings its resolved type in its one class; the engine maps from these typed records.
 */
public interface ResolvedRecipe {
    /** Method name as in JSON ("gptq"). */
    String method();

    /** Nominal bits per weight (for filtering artifacts). */
    int nominalBits();

    /** Short human label, e.g. "gguf Q4_K_M" or "gptq 4-bit g128". */
    String label();
}
