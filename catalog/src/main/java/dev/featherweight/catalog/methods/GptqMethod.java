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

/**
 * GPTQ (Frantar et al.) with GPTQModel's defaults: 4 bits, group 128, damp 0.01, no act-order, symmetric,
 * calibrated on 128 sequences of 2048 tokens.
 *
 * <p>The calibration length left out is capped to the model's max_position_embeddings: positions past it are
 * outside what the model was trained on (its rotary angles never seen), so the activations — and the Hessians
 * GPTQ builds from them — would not be those the model produces in use; GPTQModel likewise truncates calibration
 * sequences to the model's context. A length the recipe gives explicitly above the context is refused instead.
 */
public final class GptqMethod extends MethodDescriptor {
    public static final int DEFAULT_SEQ_LEN = 2048;

    public record Resolved(int bits, int groupSize, double damp, boolean descAct, boolean symmetric, int calibrationSamples,
                           int calibrationSeqLen) implements ResolvedRecipe {
        public String method() { return "gptq"; }

        public int nominalBits() { return bits; }

        public String label() { return "gptq " + bits + "-bit g" + groupSize + (descAct ? " act-order" : ""); }

        public long calibrationTokens() { return (long) calibrationSamples * calibrationSeqLen; }
    }

    public String name() { return "gptq"; }

    public String title() { return "GPTQ"; }

    public String description() {
        return "Calibrated: column-by-column rounding with error feedback through each layer's Hessian (Frantar et al. 2022), block by block";
    }

    public String output() {
        return "GPTQ folder: model.safetensors with qweight and qzeros (int32 packed), scales (fp16) and g_idx per linear layer, other tensors as stored, "
                + "config.json with quantization_config (quant_method gptq), tokenizer files; loads in transformers (GPTQModel) and vLLM";
    }

    public boolean calibrated() { return true; }

    public List<Parameter> parameters() {
        return List.of(
                Uniform.bits(4, Uniform.BITS),
                Uniform.groupSize(128),
                Parameter.number("damp", 0.01, "fraction of the mean Hessian diagonal added before inversion (GPTQModel damp_percent)").rangeAboveMin(0, 1),
                Parameter.bool("descAct", false, "act-order: quantize columns by decreasing Hessian diagonal"),
                Parameter.bool("symmetric", true, "symmetric grid (zero point at the middle code)"),
                Uniform.samples(128),
                Uniform.seqLen(DEFAULT_SEQ_LEN, "; left out: min(2048, the model's max_position_embeddings)"));
    }

    public List<String> rules() {
        return List.of(
                "groupSize is -1 or divides the input features of every linear layer (hidden_size, heads x head_dim, intermediate_size)",
                "calibrationSeqLen is at most the model's max_position_embeddings; left out it is min(2048, max_position_embeddings)",
                "the calibration text holds at least calibrationSeqLen tokens");
    }

    protected void checkShape(Params p, Map<String, Object> given, ModelShape s, String path, List<Problem> problems) {
        groupDividesRows(p.integer("groupSize"), s, path + ".groupSize", problems);
        seqLenWithinContext(given, s, path, problems);
    }

    static void seqLenWithinContext(Map<String, Object> given, ModelShape s, String path, List<Problem> problems) {
        if (given.get("calibrationSeqLen") instanceof Number n && n.longValue() > s.maxPositions())
            problems.add(new Problem(path + ".calibrationSeqLen", n + " exceeds the model's max_position_embeddings " + s.maxPositions()));
    }

    static int seqLen(Params p, Map<String, Object> given, ModelShape s) {
        int len = p.integer("calibrationSeqLen");
        return given.get("calibrationSeqLen") == null && s != null ? Math.min(len, s.maxPositions()) : len;
    }

    protected ResolvedRecipe resolve(Params p, Map<String, Object> given, ModelShape s) {
        return new Resolved(p.integer("bits"), p.integer("groupSize"), p.number("damp"), p.bool("descAct"), p.bool("symmetric"),
                p.integer("calibrationSamples"), seqLen(p, given, s));
    }

    /**
     * Roofline work per block: forward the calibration set (2 FLOPs per weight and token), accumulate one Hessian
     * per distinct input (2 · tokens · d_in² each: q/k/v share hidden, o has q, gate/up share hidden, down has ffn),
     * invert them (d³/3), and sweep the columns (2 · weights · max(hidden, ffn)).
     */
    public Estimate estimate(ResolvedRecipe recipe, ModelShape s) {
        Resolved g = (Resolved) recipe;
        BlockShape b = BlockShape.of(s);
        long tokens = g.calibrationTokens(), h = b.hidden(), q = b.qDim(), i = b.ffn();
        double flops = 2.0 * tokens * b.weights() + 2.0 * tokens * (2 * h * h + q * q + i * i)
                + (2.0 * h * h * h + (double) q * q * q + (double) i * i * i) / 3.0 + 2.0 * b.weights() * Math.max(h, i);
        long out = packedBytes(s, g.bits(), g.groupSize(), true) + keptBytes(s);
        return new Estimate(out, b.gptqWorkingSet(tokens), s.layers(), flops, b.bytesPerBlock(tokens), 0, 2.0 * s.vocab() * s.hidden() * 2);
    }
}
