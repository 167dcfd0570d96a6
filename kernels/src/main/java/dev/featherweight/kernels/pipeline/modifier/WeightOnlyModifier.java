package dev.featherweight.kernels.pipeline.modifier;

import dev.featherweight.kernels.core.FloatArrayMatrix;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.formats.hf.HfModules;
import dev.featherweight.kernels.formats.quantized.BlockResult;
import dev.featherweight.kernels.infer.BlockWeights;
import dev.featherweight.kernels.quant.QuantizedModule;
import dev.featherweight.kernels.quant.Recipe;

import java.util.LinkedHashMap;
import java.util.Map;

/** A method that needs no calibration: each module of the block is quantized from its weights alone (RTN, NF4/FP4, LLM.int8). */
public abstract class WeightOnlyModifier implements QuantizationModifier {

    /** One module's weights ({@code rows × cols}, may be overwritten) with its effective bits and group size. */
    protected abstract QuantizedModule quantize(float[] w, int rows, int cols, Recipe.ModuleParams p);

    @Override
    public final boolean calibrated() {
        return false;
    }

    @Override
    public BlockResult quantizeBlock(BlockContext block) {
        BlockWeights w = block.weights();
        Map<String, QuantizedModule> out = new LinkedHashMap<>();
        for (String m : BlockWeights.MODULES) {
            long t0 = System.nanoTime();
            WeightMatrix src = w.matrix(m);
            float[] f = FloatArrayMatrix.toFloats(src);
            Recipe.ModuleParams p = block.paramsFor(m);
            QuantizedModule q = p == null ? new QuantizedModule.Kept(f, src.rows(), src.cols()) : quantize(f, src.rows(), src.cols(), p);
            block.moduleDone(m, q, src, t0);
            out.put(HfModules.BY_BLOCK_MODULE.get(m), q);
        }
        return new BlockResult(block.layer(), out);
    }
}
