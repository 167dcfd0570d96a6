package dev.featherweight.kernels.pipeline.modifier;

import dev.featherweight.kernels.quant.AwqParams;
import dev.featherweight.kernels.quant.Bnb4Params;
import dev.featherweight.kernels.quant.CompressedTensorsParams;
import dev.featherweight.kernels.quant.GptqParams;
import dev.featherweight.kernels.quant.LlmInt8Params;
import dev.featherweight.kernels.quant.QuantizationParams;
import dev.featherweight.kernels.quant.Recipe;
import dev.featherweight.kernels.quant.RtnParams;

/** The modifier that runs a recipe's method. */
public final class Modifiers {
    private Modifiers() {
    }

    public static QuantizationModifier of(Recipe recipe) {
        return of(recipe.params());
    }

    static QuantizationModifier of(QuantizationParams params) {
        return switch (params) {
            case RtnParams p -> new RtnModifier(p);
            case GptqParams p -> new GptqModifier(p);
            case AwqParams p -> new AwqModifier(p);
            case Bnb4Params p -> new Nf4Modifier(p);
            case LlmInt8Params p -> new LlmInt8Modifier();
            // the format is only the writer: the weights come from the algorithm's own modifier, after SmoothQuant when asked
            case CompressedTensorsParams p -> {
                QuantizationModifier weights = p.grid() != null ? of(p.grid()) : new Fp8Modifier(p.scheme());
                yield p.smoothing() != null ? new SmoothQuantModifier(p.smoothing(), weights) : weights;
            }
        };
    }
}
