package dev.featherweight.kernels.quant;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The parameters of one quantization method, typed: one record per method ({@link RtnParams}, {@link GptqParams},
 * {@link AwqParams}, {@link Bnb4Params} for NF4 and FP4, {@link LlmInt8Params}, {@link CompressedTensorsParams}). {@link #of} builds them from a
 * name → value map — a recipe's JSON fields or the command line's options — with every absent parameter at its
 * default, so the CLI and the quantizer worker make the same parameters from the same names. Checked here is only
 * what the algorithms cannot run with; the catalogue validates recipes for users.
 */
public sealed interface QuantizationParams permits UniformGridParams, Bnb4Params, LlmInt8Params, CompressedTensorsParams {

    /** The methods {@link #of} builds, by the name recipes and {@code fw quantize --method} use. */
    List<String> METHODS = List.of("rtn", "gptq", "awq", "nf4", "fp4", "llm-int8", "compressed-tensors");

    /** The method's name in recipes and on the command line ("gptq"). */
    String method();

    /** Nominal bits per weight code. */
    int bits();

    /** Weights sharing one scale (−1: a whole row). */
    int groupSize();

    /** Whether per-module bits / group size overrides can be written (GPTQModel's {@code dynamic}). */
    default boolean takesOverrides() {
        return false;
    }

    /**
     * The parameters of {@code method} from recipe fields by name ("bits", "groupSize", "symmetric", "descAct",
     * "damp", "doubleQuant", …); names the method does not have are left to the caller (calibration fields).
     */
    static QuantizationParams of(String method, Map<String, ?> values) {
        ParamValues v = new ParamValues(values);
        return switch (method.toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "rtn" -> RtnParams.of(v);
            case "gptq" -> GptqParams.of(v);
            case "awq" -> AwqParams.of(v);
            case "nf4" -> Bnb4Params.of(Nf4.Type.NF4, v);
            case "fp4" -> Bnb4Params.of(Nf4.Type.FP4, v);
            case "llm-int8" -> LlmInt8Params.of(v);
            case "compressed-tensors" -> CompressedTensorsParams.of(values);
            default -> throw new IllegalArgumentException("unknown method '" + method + "' (" + String.join(", ", METHODS) + ")");
        };
    }
}
