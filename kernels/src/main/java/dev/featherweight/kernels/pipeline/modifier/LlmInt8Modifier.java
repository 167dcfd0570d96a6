package dev.featherweight.kernels.pipeline.modifier;

import dev.featherweight.kernels.quant.LlmInt8;
import dev.featherweight.kernels.quant.QuantizedModule;
import dev.featherweight.kernels.quant.Recipe;

/** LLM.int8(): int8 codes with one absmax per row ({@link LlmInt8}); {@link dev.featherweight.kernels.quant.LlmInt8Params}
 * hold only the threshold, which goes into the config. */
public final class LlmInt8Modifier extends WeightOnlyModifier {

    @Override
    protected QuantizedModule quantize(float[] w, int rows, int cols, Recipe.ModuleParams p) {
        return new QuantizedModule.Int8(LlmInt8.quantize(w, rows, cols));
    }
}
