package dev.featherweight.kernels.quant;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A compressed-tensors checkpoint (what llm-compressor writes and vLLM serves): the {@link CompressedTensorsScheme},
 * the algorithm that makes the integer weights — RTN, GPTQ or AWQ for W4A16/W8A16 (the format is only the writer;
 * {@code grid} holds the algorithm's own parameters at the scheme's bits), RTN or GPTQ for W8A8's symmetric per-channel
 * int8 — and for W8A8 the optional SmoothQuant strength α ({@code smoothing}, null = no smoothing). FP8 weights are
 * cast per channel (FP8_DYNAMIC) or per tensor (FP8) with no algorithm.
 */
public record CompressedTensorsParams(CompressedTensorsScheme scheme, UniformGridParams grid, Double smoothing) implements QuantizationParams {
    public static final List<String> ALGORITHMS = List.of("rtn", "gptq", "awq");

    public CompressedTensorsParams {
        if (scheme.fp8 && grid != null) throw new IllegalArgumentException(scheme + " casts weights to FP8; it takes no integer algorithm");
        if (!scheme.fp8 && grid == null) throw new IllegalArgumentException(scheme + " needs an integer algorithm (rtn, gptq, awq)");
        if (grid != null && grid.bits() != scheme.bits) throw new IllegalArgumentException(scheme + " has " + scheme.bits + "-bit weights, not " + grid.bits());
        if (scheme == CompressedTensorsScheme.W8A8) {
            if (grid instanceof AwqParams) throw new IllegalArgumentException("W8A8 weights are symmetric per channel: algorithm rtn or gptq, not awq");
            if (grid.groupSize() != -1 || !grid.sym()) throw new IllegalArgumentException("W8A8 weights are symmetric per channel (group -1)");
        }
        if (grid instanceof GptqParams g && g.actOrder()) throw new IllegalArgumentException("act-order (weight_g_idx) is not written in compressed-tensors checkpoints here; drop descAct");
        if (smoothing != null) {
            if (scheme != CompressedTensorsScheme.W8A8) throw new IllegalArgumentException("SmoothQuant smoothing applies to W8A8 only, not " + scheme);
            if (!(smoothing > 0 && smoothing < 1)) throw new IllegalArgumentException("smoothing α must be in (0, 1), got " + smoothing);
        }
    }

    /**
     * From recipe fields: {@code scheme} (default W4A16), {@code algorithm} (default rtn), {@code smoothing} (α; W8A8),
     * and the algorithm's own fields ({@code groupSize}, {@code symmetric}, {@code damp}, …) at the scheme's bits.
     */
    static CompressedTensorsParams of(Map<String, ?> values) {
        Object s = values.get("scheme");
        CompressedTensorsScheme scheme = CompressedTensorsScheme.parse(s == null ? "W4A16" : s.toString());
        Object a = values.get("algorithm");
        String algorithm = a == null ? "rtn" : a.toString().toLowerCase(Locale.ROOT);
        ParamValues v = new ParamValues(values);
        if (v.has("bits") && v.integer("bits", scheme.bits) != scheme.bits)
            throw new IllegalArgumentException(scheme + " has " + scheme.bits + "-bit weights; bits " + values.get("bits") + " does not apply");
        Double smoothing = v.has("smoothing") ? v.number("smoothing", SmoothQuant.DEFAULT_ALPHA) : null;
        if (scheme.fp8) {
            if (a != null && !algorithm.equals("rtn")) throw new IllegalArgumentException(scheme + " casts weights to FP8; algorithm " + algorithm + " does not apply");
            return new CompressedTensorsParams(scheme, null, smoothing);
        }
        if (!ALGORITHMS.contains(algorithm)) throw new IllegalArgumentException("unknown algorithm '" + algorithm + "' (" + String.join(", ", ALGORITHMS) + ")");
        if (scheme == CompressedTensorsScheme.W8A8 && algorithm.equals("awq"))
            throw new IllegalArgumentException("W8A8 weights are symmetric per channel: algorithm rtn or gptq, not awq");
        Map<String, Object> inner = new LinkedHashMap<>(values);
        inner.remove("scheme");
        inner.remove("algorithm");
        inner.remove("smoothing");
        inner.put("bits", scheme.bits);
        // preset group sizes: W4A16 groups of 128, W8A16 and W8A8 per channel
        if (scheme == CompressedTensorsScheme.W8A8 || !v.has("groupSize")) inner.put("groupSize", scheme == CompressedTensorsScheme.W4A16 ? 128 : -1);
        if (scheme == CompressedTensorsScheme.W8A8) inner.put("symmetric", true);
        // zero points are stored as they are (no GPTQ "zero − 1"), so an asymmetric grid may use zero point 0
        if (!algorithm.equals("awq")) inner.put("gptqV2", true);
        return new CompressedTensorsParams(scheme, (UniformGridParams) QuantizationParams.of(algorithm, inner), smoothing);
    }

    public String method() {
        return "compressed-tensors";
    }

    /** The algorithm making the weights: rtn, gptq, awq; "fp8" for the FP8 schemes. */
    public String algorithm() {
        return grid == null ? "fp8" : grid.method();
    }

    public int bits() {
        return scheme.bits;
    }

    public int groupSize() {
        return grid != null ? grid.groupSize() : -1;
    }

    public boolean symmetric() {
        return grid == null || grid.sym();
    }
}
