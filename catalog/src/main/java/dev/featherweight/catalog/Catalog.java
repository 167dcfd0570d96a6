package dev.featherweight.catalog;

import dev.featherweight.catalog.capacity.Gpu;
import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.catalog.capacity.KvDType;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.methods.AwqMethod;
import dev.featherweight.catalog.methods.CompressedTensorsMethod;
import dev.featherweight.catalog.methods.Fp4Method;
import dev.featherweight.catalog.methods.GgufMethod;
import dev.featherweight.catalog.methods.GptqMethod;
import dev.featherweight.catalog.methods.LlmInt8Method;
import dev.featherweight.catalog.methods.Nf4Method;
import dev.featherweight.catalog.methods.RtnMethod;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * What the engine can do, in one place: its methods (each a {@link MethodDescriptor}), the GGUF file types it
 * writes, the GPUs it sizes and simulates, the KV-cache types it sizes. The gateway validates recipes with it at
 * submit, the workers resolve and estimate with it, {@code fw catalog} and {@code GET /api/v1/catalog} publish
 * {@link #document}.
 */
public final class Catalog {
    /** The engine's version (the Maven project version the catalogue was built with). */
    public static final String ENGINE_VERSION = engineVersion();

    private static final Catalog BUILT_IN = new Catalog(List.of(new GgufMethod(), new GptqMethod(), new AwqMethod(), new RtnMethod(),
            new Nf4Method(), new Fp4Method(), new LlmInt8Method(), new CompressedTensorsMethod()));

    private final List<MethodDescriptor> methods;

    private Catalog(List<MethodDescriptor> methods) {
        this.methods = List.copyOf(methods);
    }

    public static Catalog builtIn() {
        return BUILT_IN;
    }

    public List<MethodDescriptor> methods() {
        return methods;
    }

    public List<String> methodNames() {
        return methods.stream().map(MethodDescriptor::name).toList();
    }

    /** The method of that name, or null. */
    public MethodDescriptor method(String name) {
        return methods.stream().filter(m -> m.name().equals(name)).findFirst().orElse(null);
    }

    /** KV-cache element types capacity sizing accepts (lower case, as recipes and eval specs spell them). */
    public static List<String> kvDtypes() {
        return Arrays.stream(KvDType.values()).map(k -> k.name().toLowerCase(Locale.ROOT)).toList();
    }

    /**
     * Every problem of one recipe ({@code {"method": ..., parameter: value, ...}}, null values = left out), each
     * named by its JSON path under {@code path}. With the model's shape (null when unknown) also the rules the
     * model imposes (group sizes that divide its rows, calibration within its context).
     */
    public List<Problem> validate(Map<String, Object> recipe, String path, ModelShape shapeOrNull) {
        Object name = recipe.get("method");
        MethodDescriptor m = name instanceof String s ? method(s) : null;
        if (m == null) {
            return List.of(new Problem(path + ".method", (name == null ? "required" : "'" + name + "' is not a method of this engine") + "; one of " + methodNames()));
        }
        return m.validate(recipe, path, shapeOrNull);
    }

    /** The recipe with every default filled (and adapted to the shape when given); fails with every problem when it is not valid. */
    public ResolvedRecipe resolve(Map<String, Object> recipe, ModelShape shapeOrNull) {
        List<Problem> problems = validate(recipe, "recipe", shapeOrNull);
        if (!problems.isEmpty()) throw new InvalidRecipeException(problems);
        return method((String) recipe.get("method")).resolve(recipe, shapeOrNull);
    }

    /**
     * The matmul precision an artifact made by this recipe is served in (its method's {@link MethodDescriptor#servingPrecision}):
     * FP16 unless the method quantizes activations too (compressed-tensors W8A8 → INT8, FP8 → FP8); FP16 for an unknown method.
     */
    public dev.featherweight.catalog.capacity.Precision servingPrecision(Map<String, Object> recipe) {
        MethodDescriptor m = recipe.get("method") instanceof String s ? method(s) : null;
        return m == null ? dev.featherweight.catalog.capacity.Precision.FP16 : m.servingPrecision(recipe);
    }

    public Estimate estimate(ResolvedRecipe recipe, ModelShape shape) {
        return method(recipe.method()).estimate(recipe, shape);
    }

    /** The catalogue as published: {@code fw catalog --json} and {@code GET /api/v1/catalog} print exactly this. */
    public Document document(GpuCatalog gpus) {
        return new Document(ENGINE_VERSION, methods.stream().map(MethodDescriptor::document).toList(), GgufFileType.ALL,
                GgufFileType.GgmlType.ALL, gpus.all(), kvDtypes());
    }

    public record Document(String engineVersion, List<MethodDescriptor.Document> methods, List<GgufFileType> ggufFileTypes,
                           List<GgufFileType.GgmlType> ggmlTypes, List<Gpu> gpus, List<String> kvDtypes) {
    }

    /** A recipe the engine cannot run, with every reason. */
    public static final class InvalidRecipeException extends IllegalArgumentException {
        private final List<Problem> problems;

        public InvalidRecipeException(List<Problem> problems) {
            super(String.join("; ", problems.stream().map(Problem::toString).toList()));
            this.problems = List.copyOf(problems);
        }

        public List<Problem> problems() {
            return problems;
        }
    }

    private static String engineVersion() {
        Properties p = new Properties();
        try (InputStream in = Catalog.class.getResourceAsStream("engine.properties")) {
            if (in == null) throw new IllegalStateException("engine.properties missing from the catalog jar");
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("version");
    }
}
