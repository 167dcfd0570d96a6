package dev.featherweight.kernels.pipeline.modifier;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.FloatArrayMatrix;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.formats.quantized.BlockResult;
import dev.featherweight.kernels.infer.BlockWeights;
import dev.featherweight.kernels.infer.LlamaModel;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.pipeline.CalibrationPipeline;
import dev.featherweight.kernels.quant.AwqParams;
import dev.featherweight.kernels.quant.Gptq;
import dev.featherweight.kernels.quant.GptqParams;
import dev.featherweight.kernels.quant.LlmInt8;
import dev.featherweight.kernels.quant.Nf4;
import dev.featherweight.kernels.quant.QuantizedModule;
import dev.featherweight.kernels.quant.Recipe;
import dev.featherweight.kernels.quant.Rtn;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each modifier on a feather-3m block through a {@link BlockContext} written here (no pipeline): it quantizes every
 * module with its algorithm and the module's effective parameters, keeps what the rules skip, and — for GPTQ —
 * captures each step's inputs with the earlier steps' modules already quantized.
 */
class ModifiersTest {
    static final Parallel POOL = new Parallel(2);
    static LoadedModel lm;

    @BeforeAll
    static void open() {
        lm = ModelLoader.open(SharedData.demoModel("feather-3m"), null, POOL);
    }

    @AfterAll
    static void close() {
        lm.close();
        POOL.close();
    }

    /** One block of feather-3m with synthetic calibration inputs: two samples of 8 tokens per distinct matmul input. */
    static class TestBlock implements BlockContext {
        final int layer;
        final Recipe recipe;
        final List<String> stops = new ArrayList<>();
        final List<BlockWeights> forwardWeights = new ArrayList<>();
        final List<String> reported = new ArrayList<>();

        TestBlock(int layer, Recipe recipe) {
            this.layer = layer;
            this.recipe = recipe;
        }

        static String inputOf(String m) {
            return m.startsWith("attn_") && !m.equals("attn_output") ? "attn_q" : m.equals("ffn_up") ? "ffn_gate" : m;
        }

        /** The synthetic input of a module for a sample: seeded by sample and (shared) input. */
        static float[] input(int sample, String module, int cols) {
            SplittableRandom r = new SplittableRandom(31L * sample + inputOf(module).hashCode());
            float[] x = new float[8 * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            return x;
        }

        public int layer() {
            return layer;
        }

        public LlamaModel.Config config() {
            return lm.model().config();
        }

        public BlockWeights weights() {
            return lm.model().block(layer);
        }

        public Parallel pool() {
            return POOL;
        }

        public Recipe.ModuleParams paramsFor(String module) {
            return recipe.paramsFor(moduleName(module));
        }

        public String moduleName(String module) {
            return CalibrationPipeline.moduleName(layer, module);
        }

        public int samples() {
            return 2;
        }

        public int seqLen() {
            return 8;
        }

        public float[][] forward(BlockWeights w, InputObserver observer, String stopAfter, int keepOutputs) {
            stops.add(stopAfter);
            forwardWeights.add(w);
            for (int s = 0; s < samples(); s++) {
                for (String m : BlockWeights.MODULES) {
                    int cols = w.matrix(m).cols();
                    observer.onInput(s, m, input(s, m, cols), 8, cols);
                    if (m.equals(stopAfter)) break;
                }
            }
            return new float[0][];
        }

        public float[] output(int sample, BlockWeights w) {
            throw new UnsupportedOperationException("not used by these modifiers' tests");
        }

        public float[] selfAttention(float[] x, BlockWeights w) {
            throw new UnsupportedOperationException("not used by these modifiers' tests");
        }

        public float[] mlp(float[] x, int nTokens, BlockWeights w) {
            throw new UnsupportedOperationException("not used by these modifiers' tests");
        }

        public void moduleDone(String module, QuantizedModule q, WeightMatrix reference, long startNanos) {
            reported.add(module);
        }

        public void stepDone(String what, double seconds, double error) {
        }
    }

    static float[] weights(String module) {
        return FloatArrayMatrix.toFloats(lm.model().block(1).matrix(module));
    }

    static Map<String, QuantizedModule> modules(BlockResult r) {
        return r.modules();
    }

    @Test
    void eachRecipeGetsItsModifier() {
        assertThat(Modifiers.of(Recipe.of("rtn", Map.of()))).isInstanceOf(RtnModifier.class).extracting(QuantizationModifier::calibrated).isEqualTo(false);
        assertThat(Modifiers.of(Recipe.of("gptq", Map.of()))).isInstanceOf(GptqModifier.class).extracting(QuantizationModifier::calibrated).isEqualTo(true);
        assertThat(Modifiers.of(Recipe.of("awq", Map.of()))).isInstanceOf(AwqModifier.class).extracting(QuantizationModifier::calibrated).isEqualTo(true);
        assertThat(Modifiers.of(Recipe.of("nf4", Map.of()))).isInstanceOf(Nf4Modifier.class);
        assertThat(Modifiers.of(Recipe.of("fp4", Map.of()))).isInstanceOf(Nf4Modifier.class);
        assertThat(Modifiers.of(Recipe.of("llm-int8", Map.of()))).isInstanceOf(LlmInt8Modifier.class).extracting(QuantizationModifier::calibrated).isEqualTo(false);
    }

    @Test
    void rtnQuantizesEachModuleWithItsEffectiveBitsAndKeepsSkippedOnes() {
        Recipe r = Recipe.of("rtn", Map.of("bits", 4, "groupSize", 64, "symmetric", false)).withRules(List.of(
                new Recipe.Rule(".*\\.mlp\\.down_proj", true, null, null), Recipe.Rule.parseOverride(".*q_proj=bits:8,group:32")));
        TestBlock block = new TestBlock(1, r);
        BlockResult res = Modifiers.of(r).quantizeBlock(block);
        assertThat(block.stops).isEmpty();
        assertThat(block.reported).containsExactly(BlockWeights.MODULES);
        assertThat(res.attnNorm()).isNull();
        int rows = 256, cols = 256;
        QuantizedModule q = res.modules().get("self_attn.q_proj");
        assertThat(q.dequantize()).isEqualTo(Rtn.quantize(weights("attn_q"), rows, cols, 8, false, Rtn.Granularity.GROUP, 32, true).dequantize());
        QuantizedModule k = res.modules().get("self_attn.k_proj");
        assertThat(k.dequantize()).isEqualTo(Rtn.quantize(weights("attn_k"), k.rows(), k.cols(), 4, false, Rtn.Granularity.GROUP, 64, true).dequantize());
        assertThat(res.modules().get("mlp.down_proj")).isInstanceOf(QuantizedModule.Kept.class);
        assertThat(res.modules().get("mlp.down_proj").dequantize()).isEqualTo(weights("ffn_down"));
    }

    @Test
    void bitsandbytesModifiersUseTheirCodeBookAndDoubleQuantization() {
        BlockResult nf4 = Modifiers.of(Recipe.of("nf4", Map.of("doubleQuant", true))).quantizeBlock(new TestBlock(1, Recipe.of("nf4", Map.of())));
        BlockResult fp4 = Modifiers.of(Recipe.of("fp4", Map.of())).quantizeBlock(new TestBlock(1, Recipe.of("fp4", Map.of())));
        QuantizedModule.Bnb4 n = (QuantizedModule.Bnb4) nf4.modules().get("mlp.up_proj");
        QuantizedModule.Bnb4 f = (QuantizedModule.Bnb4) fp4.modules().get("mlp.up_proj");
        assertThat(n.nested()).isNotNull();
        assertThat(f.nested()).isNull();
        Nf4.Weight expected = Nf4.quantize(weights("ffn_up"), new long[]{n.rows(), n.cols()}, Nf4.Type.FP4);
        assertThat(f.w().packed()).isEqualTo(expected.packed());
        assertThat(n.w().type()).isEqualTo(Nf4.Type.NF4);

        BlockResult int8 = Modifiers.of(Recipe.of("llm-int8", Map.of())).quantizeBlock(new TestBlock(1, Recipe.of("llm-int8", Map.of())));
        QuantizedModule.Int8 i = (QuantizedModule.Int8) int8.modules().get("self_attn.o_proj");
        assertThat(i.w().cb()).isEqualTo(LlmInt8.quantize(weights("attn_output"), i.rows(), i.cols()).cb());
    }

    @Test
    void gptqCapturesEachStepWithTheEarlierStepsQuantized() {
        Recipe r = Recipe.of("gptq", Map.of());
        TestBlock block = new TestBlock(1, r);
        BlockResult res = Modifiers.of(r).quantizeBlock(block);
        // true_sequential: four capture passes, each ending at its step's last input
        assertThat(block.stops).containsExactly("attn_v", "attn_output", "ffn_up", "ffn_down");
        BlockWeights source = lm.model().block(1);
        assertThat(block.forwardWeights.get(0).q()).isSameAs(source.q());
        assertThat(FloatArrayMatrix.toFloats(block.forwardWeights.get(1).q())).isEqualTo(res.modules().get("self_attn.q_proj").dequantize());
        assertThat(FloatArrayMatrix.toFloats(block.forwardWeights.get(3).up())).isEqualTo(res.modules().get("mlp.up_proj").dequantize());

        // q_proj is GPTQ of its weights with the Hessian of the shared q/k/v input
        int cols = source.q().cols();
        Gptq.Hessian h = new Gptq.Hessian(cols);
        for (int s = 0; s < 2; s++) h.add(TestBlock.input(s, "attn_q", cols), 8, POOL);
        float[] expected = Gptq.quantize(weights("attn_q"), source.q().rows(), cols, h.finish(), GptqParams.DEFAULTS.options(4, 128), POOL)
                .quantized().dequantize();
        assertThat(res.modules().get("self_attn.q_proj").dequantize()).isEqualTo(expected);

        TestBlock oneStep = new TestBlock(1, r);
        Modifiers.of(Recipe.of("gptq", Map.of("trueSequential", false))).quantizeBlock(oneStep);
        assertThat(oneStep.stops).containsExactly("ffn_down");
    }

    @Test
    void awqFoldsItsScalesSoThatThe8BitBlockComputesTheFloatBlock() {
        // a real run (the scale search needs real block outputs): 8-bit AWQ is nearly lossless, so the folded norms
        // and scaled weights must compute what the float block does — measured 0.5 % relative error; a norm left
        // unfolded multiplies its modules' inputs by scales of up to several times, an error of order one
        Recipe r = new Recipe(new AwqParams(8, 32, true, 2));
        List<BlockResult> results = new ArrayList<>();
        int[][] samples = {{1, 17, 42, 99, 7, 300, 5, 11, 64, 2, 128, 33, 8, 9, 10, 12}, {1, 250, 3, 77, 410, 19, 8, 200, 31, 6, 90, 44, 13, 14, 15, 16}};
        var store = new dev.featherweight.kernels.formats.quantized.BlockStore() {
            public int lastFinishedBlock() {
                return results.isEmpty() ? -1 : results.getLast().layer();
            }

            public float[][] loadHidden(int layer) {
                throw new UnsupportedOperationException();
            }

            public void saveBlock(BlockResult result, float[][] nextHidden) {
                results.add(result);
                if (result.layer() == 0) throw new StopAfterBlock0();
            }
        };
        try {
            new CalibrationPipeline(lm.model(), r, Modifiers.of(r), POOL, null).run(samples, store);
        } catch (StopAfterBlock0 expected) {
            // one block is enough
        }
        BlockResult b0 = results.getFirst();
        BlockWeights source = lm.model().block(0);
        assertThat(b0.attnNorm()).isNotEqualTo(source.attnNorm());
        assertThat(b0.ffnNorm()).isNotEqualTo(source.ffnNorm());
        var session = lm.model().newSession(16);
        double err = 0, norm = 0;
        for (int[] s : samples) {
            float[] fp = session.embed(s, 0, 16), q = fp.clone();
            session.forwardBlock(0, fp, 16, 0, source);
            session.forwardBlock(0, q, 16, 0, CalibrationPipeline.quantizedWeights(source, b0));
            for (int i = 0; i < fp.length; i++) {
                err += (double) (q[i] - fp[i]) * (q[i] - fp[i]);
                norm += (double) fp[i] * fp[i];
            }
        }
        assertThat(Math.sqrt(err / norm)).isLessThan(0.02);
    }

    static final class StopAfterBlock0 extends RuntimeException {
    }
}
