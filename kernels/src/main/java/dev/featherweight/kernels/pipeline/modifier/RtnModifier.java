package dev.featherweight.kernels.pipeline.modifier;

import dev.featherweight.kernels.quant.QuantizedModule;
import dev.featherweight.kernels.quant.Recipe;
import dev.featherweight.kernels.quant.Rtn;
import dev.featherweight.kernels.quant.RtnParams;

/** Round to nearest per group, per channel with group size −1 ({@link Rtn}). */
public final class RtnModifier extends WeightOnlyModifier {
    private final RtnParams params;

    public RtnModifier(RtnParams params) {
        this.params = params;
    }

    @Override
    protected QuantizedModule quantize(float[] w, int rows, int cols, Recipe.ModuleParams p) {
        Rtn.Granularity g = p.groupSize() == -1 ? Rtn.Granularity.CHANNEL : Rtn.Granularity.GROUP;
        return new QuantizedModule.Uniform(Rtn.quantize(w, rows, cols, p.bits(), params.sym(), g, p.groupSize(), !params.gptqV2()));
    }
}
