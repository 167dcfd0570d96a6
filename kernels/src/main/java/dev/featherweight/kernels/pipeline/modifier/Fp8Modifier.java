package dev.featherweight.kernels.pipeline.modifier;

import dev.featherweight.kernels.core.FloatArrayMatrix;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.formats.hf.HfModules;
import dev.featherweight.kernels.formats.quantized.BlockResult;
import dev.featherweight.kernels.infer.BlockWeights;
import dev.featherweight.kernels.quant.CompressedTensorsScheme;
import dev.featherweight.kernels.quant.Fp8E4M3;
import dev.featherweight.kernels.quant.QuantizedModule;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * FP8 E4M3 weights ({@link Fp8E4M3#quantize}): per output channel for FP8_DYNAMIC, per tensor for FP8. FP8 (static
 * activations) is calibrated: every sample runs through the block and each module's input scale is its input's
 * absolute maximum over all calibration tokens / 448 (compressed-tensors' min-max observer, symmetric, per tensor).
 */
public final class Fp8Modifier implements QuantizationModifier {
    private final CompressedTensorsScheme scheme;

    public Fp8Modifier(CompressedTensorsScheme scheme) {
        if (!scheme.fp8) throw new IllegalArgumentException(scheme + " is not an FP8 scheme");
        this.scheme = scheme;
    }

    @Override
    public boolean calibrated() {
        return scheme.activations == CompressedTensorsScheme.Activations.STATIC_TENSOR;
    }

    @Override
    public BlockResult quantizeBlock(BlockContext block) {
        BlockWeights w = block.weights();
        Map<String, float[]> absmax = new LinkedHashMap<>();
        if (calibrated()) {
            for (String m : BlockWeights.MODULES) absmax.put(m, new float[1]);
            block.forward(w, (sample, module, x, n, cols) -> {
                float[] a = absmax.get(module);
                float v = a[0];
                for (int i = 0; i < n * cols; i++) v = Math.max(v, Math.abs(x[i]));
                a[0] = v;
            }, null, 0);
        }
        Map<String, QuantizedModule> out = new LinkedHashMap<>();
        for (String m : BlockWeights.MODULES) {
            long t0 = System.nanoTime();
            WeightMatrix src = w.matrix(m);
            float[] f = FloatArrayMatrix.toFloats(src);
            QuantizedModule q;
            if (block.paramsFor(m) == null) {
                q = new QuantizedModule.Kept(f, src.rows(), src.cols());
            } else {
                Fp8E4M3.Weight fw = Fp8E4M3.quantize(f, src.rows(), src.cols(), scheme == CompressedTensorsScheme.FP8_DYNAMIC);
                if (calibrated()) fw = fw.withInputScale(Math.max(absmax.get(m)[0] / Fp8E4M3.MAX, Math.ulp(1f)));
                q = new QuantizedModule.Fp8(fw);
            }
            block.moduleDone(m, q, src, t0);
            out.put(HfModules.BY_BLOCK_MODULE.get(m), q);
        }
        return new BlockResult(block.layer(), out);
    }
}
