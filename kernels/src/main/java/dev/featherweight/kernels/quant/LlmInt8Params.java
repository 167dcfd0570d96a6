package dev.featherweight.kernels.quant;

/**
 * LLM.int8() ({@link LlmInt8}): int8 codes, one absmax per row. The outlier threshold acts on activations at
 * inference time; quantizing only records it in the config.
 */
public record LlmInt8Params(double threshold) implements QuantizationParams {

    static LlmInt8Params of(ParamValues v) {
        return new LlmInt8Params(v.number("threshold", LlmInt8.DEFAULT_THRESHOLD));
    }

    public String method() {
        return "llm-int8";
    }

    public int bits() {
        return 8;
    }

    public int groupSize() {
        return -1;
    }
}
