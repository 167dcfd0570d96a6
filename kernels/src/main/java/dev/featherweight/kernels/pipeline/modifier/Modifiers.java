package dev.featherweight.kernels.pipeline.modifier;

import dev.featherweight.kernels.quant.AwqParams;
import dev.featherweight.kernels.quant.Bnb4Params;
import dev.featherweight.kernels.quant.GptqParams;
import dev.featherweight.kernels.quant.LlmInt8Params;
import dev.featherweight.kernels.quant.Recipe;
import dev.featherweight.kernels.quant.RtnParams;

/** The modifier that runs a recipe's method. */
public final class Modifiers {
    private Modifiers() {
    }

    public static QuantizationModifier of(Recipe recipe) {
        return switch (recipe.params()) {
            case RtnParams p -> new RtnModifier(p);
            case GptqParams p -> new GptqModifier(p);
            case AwqParams p -> new AwqModifier(p);
            case Bnb4Params p -> new Nf4Modifier(p);
            case LlmInt8Params p -> new LlmInt8Modifier();
        };
    }
}
