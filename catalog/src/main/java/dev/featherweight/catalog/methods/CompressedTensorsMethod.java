package dev.featherweight.catalog.methods;

import dev.featherweight.catalog.BlockShape;
import dev.featherweight.catalog.Estimate;
import dev.featherweight.catalog.MethodDescriptor;
import dev.featherweight.catalog.Parameter;
import dev.featherweight.catalog.Params;
import dev.featherweight.catalog.Problem;
import dev.featherweight.catalog.ResolvedRecipe;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.capacity.Precision;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * compressed-tensors checkpoints (llm-compressor's format, vLLM's preferred one) in compressed-tensors' preset schemes:
 * W4A16 / W8A16 integer weights made by RTN, GPTQ or AWQ and packed into int32 words; W8A8 int8 weights with int8
 * activations scaled per token (optionally after SmoothQuant); FP8 E4M3 weights with FP8 activations scaled per token
 * (FP8_DYNAMIC) or by calibrated static scales (FP8).
 */
public final class CompressedTensorsMethod extends MethodDescriptor {
    public static final List<String> SCHEMES = List.of("W4A16", "W8A16", "W8A8", "FP8_DYNAMIC", "FP8");
    public static final List<String> ALGORITHMS = List.of("rtn", "gptq", "awq");

    /**
     * @param smoothing SmoothQuant α, null without smoothing
     * @param symmetric false only for an asymmetric grid (weight_zero_point); AWQ is always asymmetric
     */
    public record Resolved(String scheme, String algorithm, int groupSize, boolean symmetric, Double smoothing, double damp,
                           int calibrationSamples, int calibrationSeqLen) implements ResolvedRecipe {
        public String method() { return "compressed-tensors"; }

        public int nominalBits() { return scheme.startsWith("W4") ? 4 : 8; }

        public String label() {
            return "compressed-tensors " + scheme + (scheme.startsWith("FP8") ? "" : " " + algorithm + (groupSize > 0 ? " g" + groupSize : ""))
                    + (smoothing != null ? " SmoothQuant " + smoothing : "");
        }

        /** Whether the recipe runs calibration samples through the model (GPTQ, AWQ, SmoothQuant, FP8's static input scales). */
        public boolean calibrated() {
            return algorithm.equals("gptq") || algorithm.equals("awq") || smoothing != null || scheme.equals("FP8");
        }

        /** The arithmetic a server runs this artifact's matmuls in: W8A8 int8 → INT8, FP8 → FP8, weight-only → FP16. */
        public Precision precision() {
            return precisionOf(scheme);
        }
    }

    static Precision precisionOf(String scheme) {
        return switch (scheme) {
            case "W8A8" -> Precision.INT8;
            case "FP8_DYNAMIC", "FP8" -> Precision.FP8;
            default -> Precision.FP16;
        };
    }

    /** W8A8 runs int8 × int8 matmuls, FP8_DYNAMIC/FP8 FP8 × FP8 (vLLM's cutlass kernels); W4A16/W8A16 dequantize to 16 bits. */
    @Override
    public Precision servingPrecision(Map<String, Object> recipe) {
        return precisionOf(recipe.get("scheme") instanceof String s ? s : "W4A16");
    }

    public String name() { return "compressed-tensors"; }

    public String title() { return "compressed-tensors (vLLM)"; }

    public String description() {
        return "compressed-tensors checkpoints as llm-compressor writes them: W4A16/W8A16 integer weights (RTN, GPTQ or AWQ), W8A8 int8 weights and "
                + "activations (optional SmoothQuant), FP8 E4M3 weights and activations (dynamic per token, or static calibrated scales)";
    }

    public String output() {
        return "compressed-tensors folder: model.safetensors with weight_packed (int32), weight_scale (fp16), weight_shape and, asymmetric, "
                + "weight_zero_point per linear layer (pack-quantized: W4A16, W8A16), or int8 / float8_e4m3fn weight with fp32 weight_scale "
                + "[and input_scale] (int-quantized W8A8, float-quantized FP8); config.json with quantization_config (quant_method compressed-tensors), "
                + "recipe.yaml, tokenizer files; loads in vLLM and transformers";
    }

    public boolean calibrated() { return true; }

    public List<Parameter> parameters() {
        return List.of(
                Parameter.string("scheme", "W4A16", "compressed-tensors preset scheme").allowed(SCHEMES),
                Parameter.string("algorithm", "rtn", "what makes the integer weights (W4A16, W8A16: rtn, gptq, awq; W8A8: rtn, gptq; FP8: rtn, a cast)").allowed(ALGORITHMS),
                Uniform.groupSize(128).withDescription("input features sharing one scale; left out: 128 for W4A16, -1 (per channel) for the other schemes, "
                        + "which take -1 only"),
                Parameter.bool("symmetric", true, "symmetric integer grid; false writes weight_zero_point (W4A16/W8A16 rtn or gptq; awq is always asymmetric)"),
                Parameter.number("smoothing", 0.0, "SmoothQuant strength α for W8A8, folded into the norms before quantization; 0 = no smoothing").range(0, 0.99),
                Parameter.number("damp", 0.01, "GPTQ damp_percent (algorithm gptq)").rangeAboveMin(0, 1),
                Uniform.samples(128),
                Uniform.seqLen(GptqMethod.DEFAULT_SEQ_LEN, "; left out: min(2048, the model's max_position_embeddings); used by gptq, awq, smoothing and FP8"));
    }

    public List<String> rules() {
        return List.of(
                "W8A8, FP8_DYNAMIC and FP8 are per channel (groupSize -1, the default for them); W4A16 defaults to 128, W8A16 to -1",
                "FP8_DYNAMIC and FP8 take algorithm rtn only (weights are cast to E4M3); W8A8 takes rtn or gptq (symmetric per channel)",
                "symmetric false needs W4A16 or W8A16 with rtn or gptq; awq is always asymmetric (symmetric is then ignored unless given true)",
                "smoothing (SmoothQuant α) is for W8A8 only",
                "groupSize is -1 or divides the input features of every linear layer (hidden_size, heads x head_dim, intermediate_size)",
                "calibrationSeqLen is at most the model's max_position_embeddings; the calibration text holds at least calibrationSeqLen tokens");
    }

    private static int groupSize(Params p, Map<String, Object> given) {
        return given.get("groupSize") != null ? p.integer("groupSize") : p.string("scheme").equals("W4A16") ? 128 : -1;
    }

    protected void checkRules(Params p, String path, List<Problem> problems) {
        String scheme = p.string("scheme"), algorithm = p.string("algorithm");
        boolean fp8 = scheme.startsWith("FP8"), w8a8 = scheme.equals("W8A8");
        if (fp8 && !algorithm.equals("rtn")) problems.add(new Problem(path + ".algorithm", scheme + " casts weights to FP8 E4M3: rtn only, got " + algorithm));
        if (w8a8 && algorithm.equals("awq")) problems.add(new Problem(path + ".algorithm", "W8A8 weights are symmetric per channel: rtn or gptq, got awq"));
        if (p.number("smoothing") != 0 && !w8a8) problems.add(new Problem(path + ".smoothing", "SmoothQuant is for W8A8 only, not " + scheme));
        if (!p.bool("symmetric") && (fp8 || w8a8)) problems.add(new Problem(path + ".symmetric", scheme + " weights are symmetric"));
    }

    protected void checkShape(Params p, Map<String, Object> given, ModelShape s, String path, List<Problem> problems) {
        String scheme = p.string("scheme");
        int g = groupSize(p, given);
        if (g != -1 && !scheme.equals("W4A16") && !scheme.equals("W8A16"))
            problems.add(new Problem(path + ".groupSize", scheme + " is per channel: -1 only, got " + g));
        else groupDividesRows(g, s, path + ".groupSize", problems);
        GptqMethod.seqLenWithinContext(given, s, path, problems);
        if (given.get("symmetric") instanceof Boolean b && b && p.string("algorithm").equals("awq"))
            problems.add(new Problem(path + ".symmetric", "AWQ is asymmetric (zero points); leave symmetric out or false"));
    }

    protected ResolvedRecipe resolve(Params p, Map<String, Object> given, ModelShape s) {
        String scheme = p.string("scheme"), algorithm = p.string("algorithm");
        boolean sym = !algorithm.equals("awq") && p.bool("symmetric");
        double a = p.number("smoothing");
        return new Resolved(scheme, algorithm, groupSize(p, given), sym, a == 0 ? null : a, p.number("damp"), p.integer("calibrationSamples"),
                GptqMethod.seqLen(p, given, s));
    }

    /** Bytes of the blocks' linear layers as the scheme stores them. */
    static long linearBytes(ModelShape s, Resolved r) {
        long total = 0;
        int bits = r.nominalBits();
        for (long[] m : BlockShape.of(s).modules()) {
            long rows = m[0], cols = m[1];
            total += switch (r.scheme()) {
                case "W4A16", "W8A16" -> {
                    long groups = r.groupSize() <= 0 ? 1 : cols / r.groupSize();
                    yield rows * cols * bits / 8 + groups * rows * 2 + 16 + (r.symmetric() ? 0 : groups * rows * bits / 8);
                }
                case "FP8" -> rows * cols + 4 + 4;   // one weight scale and one input scale per tensor
                default -> rows * cols + rows * 4;  // fp32 scale per output channel
            };
        }
        return total * s.layers();
    }

    /** The algorithm's own work (RTN streams; GPTQ/AWQ as their methods estimate), with the scheme's bytes; SmoothQuant/FP8 calibration adds one forward pass. */
    public Estimate estimate(ResolvedRecipe recipe, ModelShape s) {
        Resolved r = (Resolved) recipe;
        long out = linearBytes(s, r) + keptBytes(s);
        BlockShape b = BlockShape.of(s);
        long tokens = (long) r.calibrationSamples() * r.calibrationSeqLen();
        Estimate e = switch (r.algorithm()) {
            case "gptq" -> new GptqMethod().estimate(new GptqMethod.Resolved(r.nominalBits(), r.groupSize(), r.damp(), false, r.symmetric(),
                    r.calibrationSamples(), r.calibrationSeqLen()), s);
            case "awq" -> new AwqMethod().estimate(new AwqMethod.Resolved(r.nominalBits(), r.groupSize(), r.calibrationSamples(), r.calibrationSeqLen()), s);
            default -> r.calibrated()
                    ? new Estimate(out, calibrationWorkingSet(b, tokens), s.layers(), 2.0 * tokens * b.weights() + 10.0 * b.weights(), b.bytesPerBlock(tokens), 0,
                    2.0 * s.vocab() * s.hidden() * 2)
                    : streaming(s, out, r.nominalBits());
        };
        double extraFlops = r.smoothing() != null && !r.algorithm().equals("rtn") ? 2.0 * tokens * b.weights() : 0;
        return new Estimate(out, e.peakParts(), e.layers(), e.flopsPerBlock() + extraFlops, e.bytesPerBlock(), e.flopsOther(), e.bytesOther());
    }

    /** One forward pass of the calibration set through the block (range or absmax per channel) and the block's weights as floats. */
    private static Map<String, Long> calibrationWorkingSet(BlockShape b, long tokens) {
        Map<String, Long> parts = new LinkedHashMap<>();
        parts.put("calibration hidden states fp32", b.calibrationHiddenBytes(tokens));
        parts.put("block weights fp32", b.weights() * 4);
        return parts;
    }
}
