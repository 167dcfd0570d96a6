package dev.featherweight.kernels.pipeline;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.FloatArrayMatrix;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.formats.hf.HfModules;
import dev.featherweight.kernels.formats.quantized.BlockResult;
import dev.featherweight.kernels.formats.quantized.BlockStore;
import dev.featherweight.kernels.infer.BlockWeights;
import dev.featherweight.kernels.infer.LlamaSession;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.pipeline.modifier.BlockContext;
import dev.featherweight.kernels.pipeline.modifier.QuantizationModifier;
import dev.featherweight.kernels.quant.QuantizedModule;
import dev.featherweight.kernels.quant.Recipe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The calibration pipeline runs a modifier it has never heard of — a test-only one that halves every weight — and
 * does its method-agnostic part: blocks in order, block 0 fed the embedded samples, each next block fed the
 * previous block's output computed with the modifier's weights, every block checkpointed with those outputs, and a
 * resumed run continuing from the store with the same results.
 */
class CalibrationPipelineTest {
    static final Parallel POOL = new Parallel(2);
    static LoadedModel lm;
    static final int[][] SAMPLES = {{1, 17, 42, 99, 7, 300, 5, 11, 64, 2, 128, 33}, {1, 250, 3, 77, 410, 19, 8, 200, 31, 6, 90, 44}};
    /** The recipe supplies only the per-module rules; its method plays no part here. */
    static final Recipe RULES = Recipe.of("rtn", Map.of()).withRules(List.of(new Recipe.Rule(".*\\.mlp\\.down_proj", true, null, null)));

    @BeforeAll
    static void open() {
        lm = ModelLoader.open(SharedData.demoModel("feather-3m"), null, POOL);
    }

    @AfterAll
    static void close() {
        lm.close();
        POOL.close();
    }

    /** Keeps every module at half its weights, except those the rules skip (kept as they are); checks what it is given. */
    static final class HalvingModifier implements QuantizationModifier {
        final boolean calibrated;
        final List<Integer> blocks = new ArrayList<>();
        final Map<Integer, float[][]> expectedOutputs = new LinkedHashMap<>();
        final Map<Integer, List<String>> skipped = new LinkedHashMap<>();
        final Map<Integer, float[][]> inputsSeenAsOutputs = new LinkedHashMap<>();

        HalvingModifier(boolean calibrated) {
            this.calibrated = calibrated;
        }

        public boolean calibrated() {
            return calibrated;
        }

        public BlockResult quantizeBlock(BlockContext block) {
            blocks.add(block.layer());
            Map<String, QuantizedModule> out = new LinkedHashMap<>();
            BlockWeights halved = block.weights();
            for (String m : BlockWeights.MODULES) {
                long t0 = System.nanoTime();
                float[] w = FloatArrayMatrix.toFloats(block.weights().matrix(m));
                int rows = block.weights().matrix(m).rows(), cols = block.weights().matrix(m).cols();
                if (block.paramsFor(m) == null) {
                    skipped.computeIfAbsent(block.layer(), k -> new ArrayList<>()).add(block.moduleName(m));
                } else {
                    for (int i = 0; i < w.length; i++) w[i] *= 0.5f;
                }
                QuantizedModule q = new QuantizedModule.Kept(w, rows, cols);
                block.moduleDone(m, q, block.weights().matrix(m), t0);
                out.put(HfModules.BY_BLOCK_MODULE.get(m), q);
                halved = halved.with(m, q.matrix());
            }
            if (calibrated) {
                float[][] outputs = new float[block.samples()][];
                for (int s = 0; s < outputs.length; s++) outputs[s] = block.output(s, halved);
                expectedOutputs.put(block.layer(), outputs);
                inputsSeenAsOutputs.put(block.layer(), block.forward(block.weights(), (sample, module, x, n, cols) -> { }, null, block.samples()));
            }
            return new BlockResult(block.layer(), out);
        }
    }

    /** A store in memory, as QuantizedModelWriter is on disk. */
    static final class MemoryStore implements BlockStore {
        final Map<Integer, BlockResult> results = new LinkedHashMap<>();
        final Map<Integer, float[][]> hidden = new LinkedHashMap<>();
        int last = -1;

        public int lastFinishedBlock() {
            return last;
        }

        public float[][] loadHidden(int layer) {
            return hidden.get(layer);
        }

        public void saveBlock(BlockResult result, float[][] nextHidden) {
            results.put(result.layer(), result);
            hidden.put(result.layer(), nextHidden);
            last = result.layer();
        }
    }

    @Test
    void feedsEachBlockThePreviousBlocksQuantizedOutputAndCheckpointsIt() {
        int layers = lm.model().config().layers(), seqLen = SAMPLES[0].length;
        HalvingModifier modifier = new HalvingModifier(true);
        MemoryStore store = new MemoryStore();
        List<Integer> done = new ArrayList<>();
        CalibrationPipeline p = new CalibrationPipeline(lm.model(), RULES, modifier, POOL, new CalibrationPipeline.Listener() {
            @Override
            public void blockDone(int block, int blocks, double seconds) {
                done.add(block);
            }
        });
        p.run(SAMPLES, store);

        assertThat(modifier.blocks).containsExactly(0, 1, 2, 3);
        assertThat(done).containsExactly(0, 1, 2, 3);
        // every block's checkpoint holds the outputs of the block run with the modifier's weights
        for (int l = 0; l < layers; l++) assertThat(store.hidden.get(l)).isDeepEqualTo(modifier.expectedOutputs.get(l));
        // block 0 sees the embedded samples, block l + 1 the checkpointed outputs of block l: recomputed independently
        LlamaSession session = lm.model().newSession(seqLen);
        for (int l = 0; l < layers; l++) {
            for (int s = 0; s < SAMPLES.length; s++) {
                float[] in = l == 0 ? session.embed(SAMPLES[s], 0, seqLen) : store.hidden.get(l - 1)[s].clone();
                session.forwardBlock(l, in, seqLen, 0, lm.model().block(l));
                assertThat(modifier.inputsSeenAsOutputs.get(l)[s]).as("block %d sample %d", l, s).isEqualTo(in);
            }
        }
        // the rules reach the modifier; every module is reported, skipped ones with no error
        assertThat(modifier.skipped.get(2)).containsExactly("model.layers.2.mlp.down_proj");
        assertThat(p.reports()).hasSize(layers * 7);
        assertThat(p.reports()).filteredOn(r -> r.module().endsWith("down_proj")).allSatisfy(r -> assertThat(r.error()).isZero());
        assertThat(p.reports()).filteredOn(r -> r.module().endsWith("q_proj")).allSatisfy(r -> assertThat(r.error()).isEqualTo(0.25));
    }

    @Test
    void resumesAfterTheLastStoredBlockWithTheSameResults() {
        MemoryStore straight = new MemoryStore();
        new CalibrationPipeline(lm.model(), RULES, new HalvingModifier(true), POOL, null).run(SAMPLES, straight);

        MemoryStore resumed = new MemoryStore();
        resumed.results.put(0, straight.results.get(0));
        resumed.results.put(1, straight.results.get(1));
        resumed.hidden.put(1, straight.hidden.get(1));
        resumed.last = 1;
        HalvingModifier modifier = new HalvingModifier(true);
        new CalibrationPipeline(lm.model(), RULES, modifier, POOL, null).run(SAMPLES, resumed);

        assertThat(modifier.blocks).containsExactly(2, 3);
        for (int l = 2; l < 4; l++) assertThat(resumed.hidden.get(l)).isDeepEqualTo(straight.hidden.get(l));
    }

    @Test
    void aModifierWithoutCalibrationNeedsNoSamplesAndMakesNoForwardPass() {
        MemoryStore store = new MemoryStore();
        new CalibrationPipeline(lm.model(), RULES, new HalvingModifier(false), POOL, null).run(null, store);
        assertThat(store.results).hasSize(4);
        assertThat(store.hidden.values()).containsOnlyNulls();

        QuantizationModifier forwards = new QuantizationModifier() {
            public boolean calibrated() {
                return false;
            }

            public BlockResult quantizeBlock(BlockContext block) {
                block.output(0, block.weights());
                return null;
            }
        };
        assertThatThrownBy(() -> new CalibrationPipeline(lm.model(), RULES, forwards, POOL, null).run(null, new MemoryStore()))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new CalibrationPipeline(lm.model(), RULES, new HalvingModifier(true), POOL, null).run(null, new MemoryStore()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("calibration samples");
    }

    @Test
    void aForwardPassStopsAfterTheAskedModulesInput() {
        List<String> seen = new ArrayList<>();
        QuantizationModifier capture = new QuantizationModifier() {
            public boolean calibrated() {
                return true;
            }

            public BlockResult quantizeBlock(BlockContext block) {
                if (block.layer() == 0) {
                    float[][] kept = block.forward(block.weights(), (sample, module, x, n, cols) -> seen.add(sample + ":" + module), "attn_v", 0);
                    assertThat(kept).isEmpty();
                }
                return new HalvingModifier(false).quantizeBlock(block);
            }
        };
        new CalibrationPipeline(lm.model(), RULES, capture, POOL, null).run(SAMPLES, new MemoryStore());
        assertThat(seen).containsExactly("0:attn_q", "0:attn_k", "0:attn_v", "1:attn_q", "1:attn_k", "1:attn_v");
    }
}
