package dev.featherweight.catalog.methods;

import dev.featherweight.catalog.BlockShape;
import dev.featherweight.catalog.Estimate;
import dev.featherweight.catalog.MethodDescriptor;
import dev.featherweight.catalog.Parameter;
import dev.featherweight.catalog.Params;
import dev.featherweight.catalog.Problem;
import dev.featherweight.catalog.ResolvedRecipe;
import dev.featherweight.catalog.capacity.ModelShape;

import java.util.List;
import java.util.Map;

/** AWQ (Lin et al.) with AutoAWQ's defaults: 4 bits, group 128, zero point, 128 calibration sequences of 512 tokens. */
public final class AwqMethod extends MethodDescriptor {
    public static final int DEFAULT_SEQ_LEN = 512;

    public record Resolved(int bits, int groupSize, int calibrationSamples, int calibrationSeqLen) implements ResolvedRecipe {
        public String method() { return "awq"; }

        public int nominalBits() { return bits; }

        public String label() { return "awq " + bits + "-bit g" + groupSize; }

        public long calibrationTokens() { return (long) calibrationSamples * calibrationSeqLen; }
    }

    public String name() { return "awq"; }

    public String title() { return "AWQ"; }

    public String description() {
        return "Calibrated: per-input-channel scales searched on activation statistics (Lin et al. 2023), then group-wise round to nearest with zero points";
    }

    public String output() {
        return "AWQ folder (AutoAWQ gemm layout at 4 bits: qweight and qzeros int32 packed along output features, scales fp16; other widths in the GPTQ layout "
                + "as gptq_v2), config.json with quantization_config, tokenizer files; loads in transformers and vLLM";
    }

    public boolean calibrated() { return true; }

    public List<Parameter> parameters() {
        return List.of(
                Uniform.bits(4, Uniform.BITS),
                Uniform.groupSize(128),
                Uniform.samples(128),
                Uniform.seqLen(DEFAULT_SEQ_LEN, "; left out: min(512, the model's max_position_embeddings)"));
    }

    public List<String> rules() {
        return List.of(
                "bits other than 4 are written in the GPTQ layout as gptq_v2 (AutoAWQ's gemm layout packs 4-bit codes only)",
                "groupSize is -1 or divides the input features of every linear layer (hidden_size, heads x head_dim, intermediate_size)",
                "calibrationSeqLen is at most the model's max_position_embeddings; left out it is min(512, max_position_embeddings)",
                "the calibration text holds at least calibrationSeqLen tokens");
    }

    protected void checkShape(Params p, Map<String, Object> given, ModelShape s, String path, List<Problem> problems) {
        groupDividesRows(p.integer("groupSize"), s, path + ".groupSize", problems);
        GptqMethod.seqLenWithinContext(given, s, path, problems);
    }

    protected ResolvedRecipe resolve(Params p, Map<String, Object> given, ModelShape s) {
        return new Resolved(p.integer("bits"), p.integer("groupSize"), p.integer("calibrationSamples"), GptqMethod.seqLen(p, given, s));
    }

    /** Roofline work per block: the forward pass plus a 20-point grid search of scales, each a forward of the block. */
    public Estimate estimate(ResolvedRecipe recipe, ModelShape s) {
        Resolved a = (Resolved) recipe;
        BlockShape b = BlockShape.of(s);
        long tokens = a.calibrationTokens();
        long out = packedBytes(s, a.bits(), a.groupSize(), a.bits() != 4) + keptBytes(s);
        return new Estimate(out, b.awqWorkingSet(tokens), s.layers(), 2.0 * tokens * b.weights() * 21, b.bytesPerBlock(tokens), 0,
                2.0 * s.vocab() * s.hidden() * 2);
    }
}
