package dev.featherweight.kernels.pipeline.modifier;

import dev.featherweight.catalog.BlockShape;
import dev.featherweight.kernels.core.FloatArrayMatrix;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.formats.hf.HfModules;
import dev.featherweight.kernels.formats.quantized.BlockResult;
import dev.featherweight.kernels.infer.BlockWeights;
import dev.featherweight.kernels.infer.LlamaModel;
import dev.featherweight.kernels.quant.Gptq;
import dev.featherweight.kernels.quant.GptqParams;
import dev.featherweight.kernels.quant.QuantizedModule;
import dev.featherweight.kernels.quant.Recipe;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * GPTQ ({@link Gptq}) on one block. With true_sequential the modules are quantized in GPTQModel's steps for llama
 * (q/k/v → o → gate/up → down), each step's Hessians accumulated from the block's inputs with the previous steps'
 * modules already quantized; otherwise all seven from one pass. Modules that share an input share a Hessian.
 */
public final class GptqModifier implements QuantizationModifier {
    /** Sub-groups quantized in sequence when true_sequential (GPTQModel's layer_modules for llama). */
    private static final String[][] SEQUENTIAL = {{"attn_q", "attn_k", "attn_v"}, {"attn_output"}, {"ffn_gate", "ffn_up"}, {"ffn_down"}};

    private final GptqParams params;

    public GptqModifier(GptqParams params) {
        this.params = params;
    }

    @Override
    public boolean calibrated() {
        return true;
    }

    /**
     * The largest step's Hessians (q/k/v share one and a copy; an 11008-wide down_proj's alone is 485 MB), the
     * module's float copy and codes, and the codes of the block's modules so far. With the block's inputs and outputs,
     * on a Llama-2-7B-shaped block with 16 × 256 tokens: 998 MiB; measured 985 MiB live at most (GC log).
     */
    @Override
    public long blockWorkingSet(LlamaModel.Config c, long tokens) {
        return BlockShape.total(QuantizationModifier.blockShape(c).gptqWorkingSet(tokens));
    }

    @Override
    public BlockResult quantizeBlock(BlockContext block) {
        BlockWeights cur = block.weights();
        Map<String, QuantizedModule> out = new LinkedHashMap<>();
        String[][] steps = params.trueSequential() ? SEQUENTIAL : new String[][]{BlockWeights.MODULES};
        for (String[] step : steps) {
            // One Hessian per distinct input: q/k/v share one, gate/up share one.
            Map<String, Gptq.Hessian> hess = new LinkedHashMap<>();
            for (String m : step) hess.putIfAbsent(inputOf(m), new Gptq.Hessian(cur.matrix(m).cols()));
            // The rest of the block after the step's last input does not matter for this step: stop there (for
            // a 7B block this halves the forward work of true-sequential GPTQ).
            block.forward(cur, (sample, module, x, n, cols) -> {
                Gptq.Hessian h = hess.get(module);   // keys are the first module of each shared input
                if (h != null) h.add(x, n, block.pool());
            }, step[step.length - 1], 0);
            Map<String, float[]> finished = new LinkedHashMap<>();
            for (Map.Entry<String, Gptq.Hessian> e : hess.entrySet()) finished.put(e.getKey(), e.getValue().finish());
            hess.clear();
            for (String m : step) {
                long t0 = System.nanoTime();
                WeightMatrix src = cur.matrix(m);
                float[] f = FloatArrayMatrix.toFloats(src);
                Recipe.ModuleParams p = block.paramsFor(m);
                QuantizedModule q;
                if (p == null) {
                    q = new QuantizedModule.Kept(f, src.rows(), src.cols());
                } else {
                    float[] h = finished.get(inputOf(m));
                    boolean lastUser = isLastUser(step, m);
                    float[] hUse = lastUser ? h : h.clone();
                    // f is overwritten by the error-compensated weights; the error below re-reads the source rows
                    q = new QuantizedModule.Uniform(Gptq.quantize(f, src.rows(), src.cols(), hUse, params.options(p.bits(), p.groupSize()), block.pool()).quantized());
                    if (lastUser) finished.remove(inputOf(m));
                }
                f = null;
                block.moduleDone(m, q, src, t0);
                out.put(HfModules.BY_BLOCK_MODULE.get(m), q);
                cur = cur.with(m, q.matrix());
            }
        }
        return new BlockResult(block.layer(), out);
    }

    private static String inputOf(String m) {
        return switch (m) {
            case "attn_q", "attn_k", "attn_v" -> "attn_q";
            case "ffn_gate", "ffn_up" -> "ffn_gate";
            default -> m;
        };
    }

    private static boolean isLastUser(String[] step, String m) {
        String key = inputOf(m);
        for (int i = step.length - 1; i >= 0; i--) if (inputOf(step[i]).equals(key)) return step[i].equals(m);
        return true;
    }
}
