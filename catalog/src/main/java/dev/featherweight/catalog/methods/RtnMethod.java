package dev.featherweight.catalog.methods;

import dev.featherweight.catalog.Estimate;
import dev.featherweight.catalog.MethodDescriptor;
import dev.featherweight.catalog.Parameter;
import dev.featherweight.catalog.Params;
import dev.featherweight.catalog.Problem;
import dev.featherweight.catalog.ResolvedRecipe;
import dev.featherweight.catalog.capacity.ModelShape;

import java.util.List;
import java.util.Map;

/** Round to nearest with per-group scales: the uncalibrated baseline, written in the GPTQ layout. */
public final class RtnMethod extends MethodDescriptor {

    public record Resolved(int bits, int groupSize, boolean symmetric) implements ResolvedRecipe {
        public String method() { return "rtn"; }

        public int nominalBits() { return bits; }

        public String label() { return "rtn int" + bits + " g" + groupSize + (symmetric ? " sym" : " asym"); }
    }

    public String name() { return "rtn"; }

    public String title() { return "Round to nearest"; }

    public String description() { return "Uncalibrated: each group of weights rounded to the nearest code of a uniform grid; the baseline the calibrated methods improve on"; }

    public String output() {
        return "GPTQ-layout folder: model.safetensors with qweight and qzeros (int32 packed), scales (fp16) and g_idx per linear layer, config.json with "
                + "quantization_config (quant_method gptq), tokenizer files; loads where GPTQ checkpoints load";
    }

    public boolean calibrated() { return false; }

    public List<Parameter> parameters() {
        return List.of(Uniform.bits(4, Uniform.BITS), Uniform.groupSize(128),
                Parameter.bool("symmetric", true, "symmetric grid (zero point at the middle code); false = asymmetric, min/max per group"));
    }

    public List<String> rules() {
        return List.of("groupSize is -1 or divides the input features of every linear layer (hidden_size, heads x head_dim, intermediate_size)");
    }

    protected void checkShape(Params p, Map<String, Object> given, ModelShape s, String path, List<Problem> problems) {
        groupDividesRows(p.integer("groupSize"), s, path + ".groupSize", problems);
    }

    protected ResolvedRecipe resolve(Params p, Map<String, Object> given, ModelShape s) {
        return new Resolved(p.integer("bits"), p.integer("groupSize"), p.bool("symmetric"));
    }

    public Estimate estimate(ResolvedRecipe recipe, ModelShape s) {
        Resolved r = (Resolved) recipe;
        return streaming(s, packedBytes(s, r.bits(), r.groupSize(), true) + keptBytes(s), r.bits());
    }
}
