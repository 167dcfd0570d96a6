package dev.featherweight.catalog.methods;

import dev.featherweight.catalog.Estimate;
import dev.featherweight.catalog.MethodDescriptor;
import dev.featherweight.catalog.Parameter;
import dev.featherweight.catalog.Params;
import dev.featherweight.catalog.ResolvedRecipe;
import dev.featherweight.catalog.capacity.ModelShape;

import java.util.List;
import java.util.Map;

/**
 * LLM.int8() (Dettmers et al.): int8 codes with one fp32 absmax per row. The outlier threshold acts on activations
 * at inference time, so the engine only records it in the config — and records bitsandbytes' 6.0, the one value
 * it can write: the catalogue accepts exactly that.
 */
public final class LlmInt8Method extends MethodDescriptor {
    public static final double THRESHOLD = 6.0;

    public record Resolved(double threshold) implements ResolvedRecipe {
        public String method() { return "llm-int8"; }

        public int nominalBits() { return 8; }

        public String label() { return "llm-int8 t" + threshold; }
    }

    public String name() { return "llm-int8"; }

    public String title() { return "LLM.int8() (bitsandbytes)"; }

    public String description() { return "Uncalibrated: int8 row-wise absmax; at inference, input columns above the threshold are multiplied in 16 bits"; }

    public String output() {
        return "bitsandbytes folder: model.safetensors with int8 weights and SCB (fp32 absmax per row) per linear layer, config.json with "
                + "quantization_config (load_in_8bit, llm_int8_threshold), tokenizer files; loads in transformers with bitsandbytes";
    }

    public boolean calibrated() { return false; }

    public List<Parameter> parameters() {
        return List.of(Parameter.number("threshold", THRESHOLD, "outlier threshold on activations, recorded in the config (llm_int8_threshold)").allowed(THRESHOLD));
    }

    public List<String> rules() { return List.of("threshold is recorded, not applied while quantizing: only bitsandbytes' 6.0 is written"); }

    protected ResolvedRecipe resolve(Params p, Map<String, Object> given, ModelShape s) {
        return new Resolved(p.number("threshold"));
    }

    public Estimate estimate(ResolvedRecipe recipe, ModelShape s) {
        long rows = (long) s.layers() * (s.qDim() + 2L * s.kvDim() + s.hidden() + 2L * s.ffn() + s.hidden());
        return streaming(s, (long) s.layers() * s.blockMatmulParams() + rows * 4 + keptBytes(s), 8);
    }
}
