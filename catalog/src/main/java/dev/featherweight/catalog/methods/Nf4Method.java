package dev.featherweight.catalog.methods;

import dev.featherweight.catalog.Estimate;
import dev.featherweight.catalog.MethodDescriptor;
import dev.featherweight.catalog.Parameter;
import dev.featherweight.catalog.Params;
import dev.featherweight.catalog.ResolvedRecipe;
import dev.featherweight.catalog.capacity.ModelShape;

import java.util.List;
import java.util.Map;

/** bitsandbytes NF4 with transformers' BitsAndBytesConfig defaults: block 64, no double quantization. */
public final class Nf4Method extends MethodDescriptor {

    public record Resolved(int blockSize, boolean doubleQuant) implements ResolvedRecipe {
        public String method() { return "nf4"; }

        public int nominalBits() { return 4; }

        public String label() { return "nf4 b" + blockSize + (doubleQuant ? " dq" : ""); }
    }

    public String name() { return "nf4"; }

    public String title() { return "NF4 (bitsandbytes)"; }

    public String description() { return "Uncalibrated: NormalFloat4 (QLoRA): a 4-bit code book of normal-distribution quantiles, scaled by the absmax of each block"; }

    public String output() { return Bnb4.output("nf4"); }

    public boolean calibrated() { return false; }

    public List<Parameter> parameters() { return Bnb4.parameters(); }

    public List<String> rules() { return List.of("blockSize applies to the flattened weights of each linear layer; the last block may be partial"); }

    protected ResolvedRecipe resolve(Params p, Map<String, Object> given, ModelShape s) {
        return new Resolved(p.integer("blockSize"), p.bool("doubleQuant"));
    }

    public Estimate estimate(ResolvedRecipe recipe, ModelShape s) {
        Resolved r = (Resolved) recipe;
        return streaming(s, Bnb4.linearBytes(s, r.blockSize(), r.doubleQuant()) + keptBytes(s), Bnb4.bitsPerWeight(r.blockSize(), r.doubleQuant()));
    }
}
