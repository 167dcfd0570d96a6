package dev.featherweight.catalog;

import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.capacity.Precision;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One quantization method as the engine runs it: its parameters (JSON names, types, defaults, allowed values),
 * the rules between them, what it writes, and what it costs. Adding a method = one subclass (with its
 * {@link ResolvedRecipe} record) registered in {@link Catalog}, plus its tests.
 */
public abstract class MethodDescriptor {

    /** Name as in a recipe's {@code "method"} ("gptq"). */
    public abstract String name();

    public abstract String title();

    public abstract String description();

    /** What the method writes (file or folder layout, tensor encodings, where it loads). */
    public abstract String output();

    /** Whether the method runs calibration text through the model. */
    public abstract boolean calibrated();

    public abstract List<Parameter> parameters();

    /** Human-readable cross-parameter and model-shape rules (what {@link #checkRules} and {@link #checkShape} enforce). */
    public abstract List<String> rules();

    /** The recipe with defaults filled and, when the shape is known, adapted to the model. Only called on a valid recipe. */
    protected abstract ResolvedRecipe resolve(Params p, Map<String, Object> given, ModelShape shapeOrNull);

    /** Output size, device working set and roofline work for this recipe on this model. */
    public abstract Estimate estimate(ResolvedRecipe recipe, ModelShape shape);

    /**
     * The arithmetic a server runs this method's artifact in (the roofline's compute peak): weight-only methods
     * dequantize to 16 bits ({@link Precision#FP16}); W8A8 schemes override it.
     */
    public Precision servingPrecision(Map<String, Object> recipe) {
        return Precision.FP16;
    }

    /** Rules between parameters, each valid on its own. */
    protected void checkRules(Params p, String path, List<Problem> problems) {
    }

    /** Rules the model's shape imposes (group sizes that divide the rows, context length). */
    protected void checkShape(Params p, Map<String, Object> given, ModelShape shape, String path, List<Problem> problems) {
    }

    /** Every problem of a recipe's parameters (a map of JSON name → value; null or absent = default). */
    public final List<Problem> validate(Map<String, Object> recipe, String path, ModelShape shapeOrNull) {
        List<Problem> problems = new ArrayList<>();
        List<String> names = parameters().stream().map(Parameter::name).toList();
        for (var e : recipe.entrySet()) {
            if (e.getValue() != null && !e.getKey().equals("method") && !names.contains(e.getKey()))
                problems.add(new Problem(path + "." + e.getKey(), "not a parameter of " + name() + "; one of " + names));
        }
        for (Parameter p : parameters()) p.check(recipe.get(p.name()), path, problems);
        if (!problems.isEmpty()) return problems;
        Params filled = params(recipe);
        checkRules(filled, path, problems);
        if (shapeOrNull != null) checkShape(filled, recipe, shapeOrNull, path, problems);
        return problems;
    }

    public final ResolvedRecipe resolve(Map<String, Object> recipe, ModelShape shapeOrNull) {
        return resolve(params(recipe), recipe, shapeOrNull);
    }

    private Params params(Map<String, Object> recipe) {
        Map<String, Object> values = new LinkedHashMap<>();
        for (Parameter p : parameters()) {
            Object v = recipe.get(p.name());
            values.put(p.name(), v != null ? v : p.defaultValue());
        }
        return new Params(values);
    }

    /** The published form (what the catalogue document lists). */
    public final Document document() {
        return new Document(name(), title(), description(), output(), calibrated(), parameters(), rules());
    }

    public record Document(String name, String title, String description, String output, boolean calibrated,
                           List<Parameter> parameters, List<String> rules) {
    }

    // ---- shared by the methods' estimates ----

    /** Bytes of everything outside the blocks' linear layers (embeddings, untied output head, norms, biases), kept at 2 bytes per value. */
    protected static long keptBytes(ModelShape s) {
        return (s.params() - (long) s.layers() * s.blockMatmulParams()) * 2;
    }

    /**
     * Bytes of the blocks' linear layers in a GPTQ-style packed layout: b-bit codes, b-bit zero points and fp16
     * scales per group and output feature, plus (GPTQ) one int32 group index per input feature.
     */
    protected static long packedBytes(ModelShape s, int bits, int groupSize, boolean groupIndex) {
        long total = 0;
        for (long[] m : BlockShape.of(s).modules()) {
            long rows = m[0], cols = m[1], groups = groupSize <= 0 ? 1 : (cols + groupSize - 1) / groupSize;
            total += rows * cols * bits / 8 + groups * rows * bits / 8 + groups * rows * 2 + (groupIndex ? cols * 4 : 0);
        }
        return total * s.layers();
    }

    /** The non-block tensors are copied, not quantized (every method but gguf): read and written once, no arithmetic. */
    protected static Estimate streaming(ModelShape s, long outputBytes, double bitsPerWeight) {
        BlockShape b = BlockShape.of(s);
        long other = 2L * s.vocab() * s.hidden();
        return new Estimate(outputBytes, b.streamingWorkingSet(bitsPerWeight), s.layers(), 10.0 * b.weights(), b.bytesPerBlock(0), 0, other * 2.0);
    }

    /** Checks that a group size divides the input features of every linear layer. */
    protected static void groupDividesRows(int groupSize, ModelShape s, String field, List<Problem> problems) {
        if (groupSize <= 0) return;
        long[] inputs = {s.hidden(), s.qDim(), s.ffn()};
        for (long cols : inputs) {
            if (cols % groupSize != 0) {
                problems.add(new Problem(field, groupSize + " does not divide the input features of every linear layer of "
                        + s.name() + " (" + s.hidden() + ", " + s.qDim() + ", " + s.ffn() + "); -1 or a divisor of each"));
                return;
            }
        }
    }
}
