package dev.featherweight.contracts;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.featherweight.catalog.Catalog;
import dev.featherweight.catalog.Problem;
import dev.featherweight.catalog.ResolvedRecipe;
import dev.featherweight.catalog.capacity.ModelShape;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One quantization recipe as a job carries it: a method and its parameters, JSON
 * {@code {"method":"gptq","bits":4,...}}. Every parameter is optional (null = left out): the engine's catalogue
 * ({@link Catalog}) fills the defaults, checks types, allowed values and rules, and resolves the recipe the
 * engine runs. The contracts depend on the catalogue rather than repeating its rules, so the gateway (at submit),
 * the job-service and the workers all judge a recipe by the one table the kernels are tested against.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "method")
@JsonSubTypes({
        @JsonSubTypes.Type(value = Recipe.Gguf.class, name = "gguf"),
        @JsonSubTypes.Type(value = Recipe.Gptq.class, name = "gptq"),
        @JsonSubTypes.Type(value = Recipe.Awq.class, name = "awq"),
        @JsonSubTypes.Type(value = Recipe.Nf4.class, name = "nf4"),
        @JsonSubTypes.Type(value = Recipe.Fp4.class, name = "fp4"),
        @JsonSubTypes.Type(value = Recipe.LlmInt8.class, name = "llm-int8"),
        @JsonSubTypes.Type(value = Recipe.Rtn.class, name = "rtn")})
@JsonInclude(JsonInclude.Include.NON_NULL)
public sealed interface Recipe {

    /** Method name as in JSON. */
    @JsonIgnore
    String method();

    /** The recipe as the catalogue reads it: {@code method} and each parameter by its JSON name (null = left out). */
    @JsonIgnore
    default Map<String, Object> parameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", method());
        for (RecordComponent c : getClass().getRecordComponents()) {
            try {
                m.put(c.getName(), c.getAccessor().invoke(this));
            } catch (IllegalAccessException | InvocationTargetException e) {
                throw new IllegalStateException(e);
            }
        }
        return m;
    }

    /** Every problem, each as "path.field: message" ({@code shapeOrNull}: also the rules of that model). */
    default List<Problem> problems(String path, ModelShape shapeOrNull) {
        return Catalog.builtIn().validate(parameters(), path, shapeOrNull);
    }

    default void validate(String path, List<String> errors) {
        for (Problem p : problems(path, null)) errors.add(p.toString());
    }

    /** The recipe the engine runs: defaults filled, adapted to the model's shape when given; fails listing every problem. */
    default ResolvedRecipe resolve(ModelShape shapeOrNull) {
        return Catalog.builtIn().resolve(parameters(), shapeOrNull);
    }

    /** Nominal bits per weight (for filtering artifacts). */
    @JsonIgnore
    default int nominalBits() {
        return resolve(null).nominalBits();
    }

    /** Short human label, e.g. "gguf Q4_K_M" or "gptq 4-bit g128". */
    @JsonIgnore
    default String label() {
        return resolve(null).label();
    }

    record Gguf(String fileType) implements Recipe {
        public String method() { return "gguf"; }
    }

    /** GPTQ (Frantar et al.): calibrated, column-by-column error feedback through the Hessian. */
    record Gptq(Integer bits, Integer groupSize, Boolean descAct, Double damp, Integer calibrationSamples, Integer calibrationSeqLen,
                Boolean symmetric) implements Recipe {
        public String method() { return "gptq"; }
    }

    /** AWQ (Lin et al.): activation-aware per-channel scales searched on calibration data, then group RTN. */
    record Awq(Integer bits, Integer groupSize, Integer calibrationSamples, Integer calibrationSeqLen) implements Recipe {
        public String method() { return "awq"; }
    }

    /** bitsandbytes NF4 (QLoRA): 4-bit normal-float code book, absmax per block, optional double quantization. */
    record Nf4(Integer blockSize, Boolean doubleQuant) implements Recipe {
        public String method() { return "nf4"; }
    }

    /** bitsandbytes FP4 (e2m1), absmax per block. */
    record Fp4(Integer blockSize, Boolean doubleQuant) implements Recipe {
        public String method() { return "fp4"; }
    }

    /** LLM.int8() (Dettmers et al.): int8 row-wise absmax, outlier columns above the threshold kept in fp16 at inference. */
    record LlmInt8(Double threshold) implements Recipe {
        public String method() { return "llm-int8"; }
    }

    /** Round to nearest with per-group scales: the uncalibrated baseline. */
    record Rtn(Integer bits, Integer groupSize, Boolean symmetric) implements Recipe {
        public String method() { return "rtn"; }
    }
}
