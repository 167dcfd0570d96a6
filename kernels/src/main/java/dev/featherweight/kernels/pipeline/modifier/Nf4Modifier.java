package dev.featherweight.kernels.pipeline.modifier;

import dev.featherweight.kernels.quant.Bnb4Params;
import dev.featherweight.kernels.quant.Nf4;
import dev.featherweight.kernels.quant.QuantizedModule;
import dev.featherweight.kernels.quant.Recipe;

/** bitsandbytes 4-bit, NF4 or FP4 code book, optionally with double-quantized absmax ({@link Nf4}). */
public final class Nf4Modifier extends WeightOnlyModifier {
    private final Bnb4Params params;

    public Nf4Modifier(Bnb4Params params) {
        this.params = params;
    }

    @Override
    protected QuantizedModule quantize(float[] w, int rows, int cols, Recipe.ModuleParams p) {
        Nf4.Weight nw = Nf4.quantize(w, new long[]{rows, cols}, params.type());
        return new QuantizedModule.Bnb4(nw, params.doubleQuant() ? Nf4.doubleQuantize(nw.absmax()) : null, rows, cols);
    }
}
