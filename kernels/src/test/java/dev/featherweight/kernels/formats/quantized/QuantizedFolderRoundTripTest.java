package dev.featherweight.kernels.formats.quantized;

import dev.featherweight.kernels.pipeline.modifier.QuantizationModifier;
import dev.featherweight.kernels.pipeline.modifier.Modifiers;
import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.formats.TensorSource;
import dev.featherweight.kernels.infer.BlockWeights;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.pipeline.CalibrationData;
import dev.featherweight.kernels.formats.hf.HfModules;
import dev.featherweight.kernels.pipeline.CalibrationPipeline;
import dev.featherweight.kernels.quant.QuantizedModule;
import dev.featherweight.kernels.quant.Recipe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every layout written from feather-3m reloads through the production loader ({@link ModelLoader}, as
 * {@code fw perplexity} uses it) and every reloaded weight equals the quantizer's own dequantized weight exactly:
 * GPTQ bits 2/3/4/8, sym/asym, act-order and static groups, gptq_v2 zeros, AWQ, NF4/FP4 with and without double
 * quantization, LLM.int8, and modules kept by --skip.
 */
class QuantizedFolderRoundTripTest {
    static final Parallel POOL = new Parallel(2);
    @TempDir
    static Path tmp;

    @AfterAll
    static void close() {
        POOL.close();
    }

    static Recipe recipe(String method, int bits, int group, boolean sym, boolean actOrder, boolean staticGroups, boolean dq, boolean v2, String skip) {
        // AWQ's scale search on 4 samples (the statistics use all)
        Recipe r = Recipe.of(method, Map.of("bits", bits, "groupSize", group, "symmetric", sym, "descAct", actOrder, "staticGroups", staticGroups,
                "doubleQuant", dq, "gptqV2", v2, "searchSamples", 4));
        return skip.isEmpty() ? r : r.withRules(List.of(new Recipe.Rule(skip, true, null, null)));
    }

    /** Runs a recipe on feather-3m, keeping every block's result beside the files. */
    static Map<String, QuantizedModule> quantize(Recipe r, Path out, int samples, int seqLen) throws Exception {
        Path model = SharedData.demoModel("feather-3m");
        Map<String, QuantizedModule> kept = new LinkedHashMap<>();
        try (LoadedModel lm = ModelLoader.open(model, null, POOL)) {
            TensorSource src = lm.model().source();
            int layers = lm.model().config().layers();
            int[][] s = null;
            QuantizationModifier modifier = Modifiers.of(r);
            if (modifier.calibrated()) {
                int[] tokens = CalibrationData.tokens(SharedData.shared("eval/train.tinystories.tokens.u32"), null);
                s = CalibrationData.sample(tokens, samples, seqLen, 1234, 1);
            }
            QuantizedModelWriter w = new QuantizedModelWriter(model, src, layers, r, out.resolveSibling(out.getFileName() + ".work"),
                    QuantizedModelWriter.fingerprint(model, src, r, s));
            new CalibrationPipeline(lm.model(), r, modifier, POOL, null).run(s, new BlockStore() {
                public int lastFinishedBlock() {
                    return w.lastFinishedBlock();
                }

                public float[][] loadHidden(int layer) {
                    return w.loadHidden(layer);
                }

                public void saveBlock(BlockResult b, float[][] next) {
                    b.modules().forEach((k, v) -> kept.put("model.layers." + b.layer() + "." + k, v));
                    w.saveBlock(b, next);
                }
            });
            w.finish(out);
        }
        return kept;
    }

    @ParameterizedTest(name = "{0} {1}-bit g{2} sym={3} act={4} static={5} dq={6} v2={7} skip={8}")
    @CsvSource({
            "rtn,4,128,true,false,false,false,false,''",
            "rtn,3,64,false,false,false,false,false,''",
            "rtn,2,-1,false,false,false,false,false,''",
            "rtn,8,32,true,false,false,false,false,''",
            "gptq,4,128,true,false,false,false,false,''",
            "gptq,4,32,true,true,false,false,false,''",
            "gptq,3,64,false,true,true,false,false,''",
            "gptq,2,128,false,false,false,false,true,''",
            "gptq,8,-1,true,true,false,false,false,'.*mlp\\.down_proj'",
            "awq,4,128,false,false,false,false,false,''",
            "awq,4,64,false,false,false,false,false,'.*\\.1\\.mlp'",
            "nf4,4,64,true,false,false,false,false,''",
            "nf4,4,64,true,false,false,true,false,''",
            "fp4,4,64,true,false,false,true,false,''",
            "fp4,4,64,true,false,false,false,false,'model\\.layers\\.0\\.self_attn\\.o_proj'",
            "llm-int8,8,-1,true,false,false,false,false,''",
    })
    void reloadedWeightsEqualTheQuantizersOwn(String method, int bits, int group, boolean sym, boolean act, boolean stat, boolean dq, boolean v2,
                                             String skip) throws Exception {
        Recipe r = recipe(method, bits, group, sym, act, stat, dq, v2, skip);
        Path out = tmp.resolve(r.canonical().replaceAll("[^A-Za-z0-9]", "_"));
        Map<String, QuantizedModule> kept = quantize(r, out, 4, 64);
        try (LoadedModel lm = ModelLoader.open(out, null, POOL)) {
            int layers = lm.model().config().layers();
            int checked = 0, skipped = 0;
            for (int l = 0; l < layers; l++) {
                BlockWeights b = lm.model().block(l);
                for (Map.Entry<String, String> e : HfModules.BY_BLOCK_MODULE.entrySet()) {
                    String name = "model.layers." + l + "." + e.getValue();
                    QuantizedModule q = kept.get(name);
                    WeightMatrix m = b.matrix(e.getKey());
                    float[] want = q.dequantize();
                    float[] row = new float[m.cols()];
                    for (int rr = 0; rr < m.rows(); rr++) {
                        m.decodeRow(rr, row, 0);
                        for (int c = 0; c < m.cols(); c++) {
                            if (Float.floatToRawIntBits(row[c]) != Float.floatToRawIntBits(want[rr * m.cols() + c]) && !(row[c] == 0 && want[rr * m.cols() + c] == 0)) {
                                throw new AssertionError(name + "[" + rr + "][" + c + "]: reloaded " + row[c] + " != quantizer " + want[rr * m.cols() + c] + " (" + m.format() + ")");
                            }
                        }
                    }
                    if (q instanceof QuantizedModule.Kept) skipped++;
                    else checked++;
                    // a kept module loads as a plain float tensor, a quantized one through its layout's matrix class
                    assertThat(m.format().equals("F32") || m.format().equals("F16") || m.format().equals("BF16")).as(name + " " + m.format())
                            .isEqualTo(q instanceof QuantizedModule.Kept);
                }
            }
            assertThat(checked).isGreaterThan(0);
            if (!skip.isEmpty()) assertThat(skipped).isGreaterThan(0);
            else assertThat(skipped).isZero();
        }
    }
}
