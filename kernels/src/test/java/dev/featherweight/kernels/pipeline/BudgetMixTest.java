package dev.featherweight.kernels.pipeline;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufModelPlan;
import dev.featherweight.kernels.formats.gguf.GgufTensorInfo;
import dev.featherweight.kernels.formats.gguf.GgufValue;
import dev.featherweight.kernels.formats.gguf.HfToGguf;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.quant.gguf.FileType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The size-budget mix: the knapsack on its own (exact, within budget, monotone) and on feather-3m (file size, llama.cpp's rules, loadable). */
class BudgetMixTest {
    static SafetensorsModel weights;
    static GgufModelPlan plan;
    static List<BudgetMix.TensorOptions> measured;

    @BeforeAll
    static void measureFeather() {
        Path dir = SharedData.demoModel("feather-3m");
        weights = SafetensorsModel.open(dir);
        plan = HfToGguf.plan(dir, weights, GgmlType.F32);
        measured = BudgetMix.measure(plan, null, BudgetMix.defaultCandidates(false), 2);
    }

    @AfterAll
    static void close() {
        weights.close();
    }

    /** Random groups whose error falls with bytes, as quantization errors do (not always convexly). */
    private static List<BudgetMix.TensorOptions> randomGroups(Random rnd, int groups, int options) {
        List<BudgetMix.TensorOptions> g = new ArrayList<>();
        for (int i = 0; i < groups; i++) {
            List<BudgetMix.Option> o = new ArrayList<>();
            long bytes = 32L * (1 + rnd.nextInt(20));
            double err = 1 + rnd.nextDouble() * 100;
            for (int k = 0; k < options; k++) {
                o.add(new BudgetMix.Option(GgmlType.values()[k], bytes, err));
                bytes += 32L * (1 + rnd.nextInt(30));
                err *= rnd.nextDouble();
            }
            g.add(new BudgetMix.TensorOptions("t" + i, o));
        }
        return g;
    }

    @Test
    void knapsackIsExactAgainstEnumerationAndNeverExceedsTheBudget() {
        Random rnd = new Random(7);
        for (int trial = 0; trial < 40; trial++) {
            var groups = randomGroups(rnd, 4, 3 + rnd.nextInt(3));
            long min = groups.stream().mapToLong(g -> g.options().getFirst().bytes()).sum();
            long max = groups.stream().mapToLong(g -> g.options().getLast().bytes()).sum();
            long budget = min + (long) (rnd.nextDouble() * (max - min));
            var a = BudgetMix.allocate(groups, budget);
            assertThat(a.bytes()).isLessThanOrEqualTo(budget);
            assertThat(a.chosen().stream().mapToLong(BudgetMix.Option::bytes).sum()).isEqualTo(a.bytes());
            assertThat(a.error()).isCloseTo(bruteForce(groups, budget), org.assertj.core.data.Offset.offset(1e-9));
        }
    }

    private static double bruteForce(List<BudgetMix.TensorOptions> groups, long budget) {
        double best = Double.POSITIVE_INFINITY;
        int[] idx = new int[groups.size()];
        while (true) {
            long bytes = 0;
            double err = 0;
            for (int i = 0; i < idx.length; i++) {
                bytes += groups.get(i).options().get(idx[i]).bytes();
                err += groups.get(i).options().get(idx[i]).error();
            }
            if (bytes <= budget) best = Math.min(best, err);
            int i = 0;
            while (i < idx.length && ++idx[i] == groups.get(i).options().size()) idx[i++] = 0;
            if (i == idx.length) return best;
        }
    }

    @Test
    void aLargerBudgetNeverGivesALargerError() {
        var groups = randomGroups(new Random(3), 30, 6);
        long min = groups.stream().mapToLong(g -> g.options().getFirst().bytes()).sum();
        long max = groups.stream().mapToLong(g -> g.options().getLast().bytes()).sum();
        double previous = Double.POSITIVE_INFINITY;
        for (long budget = min; budget <= max + 64; budget += Math.max(97, (max - min) / 150)) {
            double e = BudgetMix.allocate(groups, budget).error();
            assertThat(e).isLessThanOrEqualTo(previous);
            previous = e;
        }
        assertThat(BudgetMix.allocate(groups, max).error())
                .isCloseTo(groups.stream().mapToDouble(g -> g.options().getLast().error()).sum(), org.assertj.core.data.Offset.offset(1e-9));
        assertThatThrownBy(() -> BudgetMix.allocate(groups, min - 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("smallest types need " + min);
    }

    @Test
    void featherMixesAreMonotoneInTheirBudgetOnRealErrors() {
        double previous = Double.POSITIVE_INFINITY;
        for (double bpw = 3.0; bpw <= 8.0; bpw += 0.25) {
            var mix = BudgetMix.allocateMix(plan, new BudgetMix.Budget.BitsPerWeight(bpw), null, null, measured);
            assertThat(mix.bitsPerWeight()).isLessThanOrEqualTo(bpw);
            assertThat(mix.error()).isLessThanOrEqualTo(previous);
            previous = mix.error();
        }
    }

    @Test
    void featherMixAtQ4KMsSizeIsWithinTheFileBudgetKeepsLlamaCppsRulesAndLoads(@TempDir Path tmp) throws Exception {
        Path fixed = tmp.resolve("q4km.gguf");
        long q4km = LlamaQuantize.quantize(plan, FileType.Q4_K_M, null, null, fixed, 2, null).bytes();
        var mix = BudgetMix.allocateMix(plan, new BudgetMix.Budget.FileBytes(q4km), null, null, measured);
        Path out = tmp.resolve("mix.gguf");
        var result = LlamaQuantize.quantizeMix(plan, mix.types(), mix.label(), null, null, out, 2, null);
        assertThat(result.bytes()).isEqualTo(Files.size(out)).isEqualTo(mix.fileBytes()).isLessThanOrEqualTo(q4km);
        // optimal to the byte: the bytes left are fewer than any upgrade of a chosen type to a better one would need
        long left = q4km - result.bytes();
        for (var g : measured) {
            GgmlType chosen = mix.types().get(g.name());
            var c = g.options().stream().filter(o -> o.type() == chosen).findFirst().orElseThrow();
            for (var o : g.options()) {
                if (o.bytes() > c.bytes() && o.error() < c.error()) assertThat(left).as(g.name() + " " + o.type()).isLessThan(o.bytes() - c.bytes());
            }
        }

        Map<String, GgmlType> rules = LlamaQuantize.mixTypes(plan, FileType.Q4_K_M, false);
        Map<String, GgmlType> written = new LinkedHashMap<>();
        try (GgufFile g = GgufFile.open(out)) {
            for (GgufTensorInfo t : g.tensorInfos()) written.put(t.name(), t.type());
            assertThat(g.metadata().get("general.file_type")).isEqualTo(GgufValue.uint32(mix.label().id));
        }
        assertThat(written.get("output.weight")).isEqualTo(rules.get("output.weight")).isEqualTo(GgmlType.Q6_K);
        for (var t : plan.tensors()) {
            if (!LlamaQuantize.isQuantizable(t)) assertThat(written.get(t.name())).as(t.name()).isEqualTo(GgmlType.F32);
            else assertThat(written.get(t.name())).as(t.name()).isEqualTo(mix.types().get(t.name()));
        }
        // a real mix, not one type everywhere
        assertThat(mix.types().values().stream().distinct().count()).isGreaterThan(1);
        try (Parallel pool = new Parallel(2); LoadedModel lm = ModelLoader.open(out, SharedData.demoModel("feather-3m"), pool)) {
            float[] logits = lm.model().newSession(4).forward(lm.encode("Once upon a time"), 0, 4, 0, 3);
            assertThat(logits).hasSize(lm.model().config().vocab());
            for (float v : logits) assertThat(v).isFinite();
        }
    }

    @Test
    void candidatesWhoseBlockDoesNotDivideTheRowsBecomeLlamaQuantizesFallbacks() {
        // one 96-wide matrix (not a multiple of 256): Q2_K/Q3_K → IQ4_NL, Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0
        var meta = new LinkedHashMap<String, GgufValue>();
        meta.put("general.architecture", GgufValue.string("llama"));
        meta.put("llama.block_count", GgufValue.uint32(1));
        meta.put("llama.attention.head_count", GgufValue.uint32(1));
        Random rnd = new Random(1);
        float[] data = new float[96 * 8];
        for (int i = 0; i < data.length; i++) data[i] = (float) rnd.nextGaussian();
        var t = new GgufModelPlan.SourceTensor("blk.0.ffn_down.weight", new long[]{96, 8}, GgmlType.F32,
                (row, dst) -> System.arraycopy(data, (int) row * 96, dst, 0, 96), null);
        var out = new GgufModelPlan.SourceTensor("output.weight", new long[]{96, 8}, GgmlType.F32,
                (row, dst) -> System.arraycopy(data, (int) row * 96, dst, 0, 96), null);
        var tiny = new GgufModelPlan(meta, List.of(t, out));
        var groups = BudgetMix.measure(tiny, null, BudgetMix.defaultCandidates(false), 1);
        assertThat(groups).hasSize(1);
        assertThat(groups.getFirst().options()).extracting(BudgetMix.Option::type)
                .containsExactlyInAnyOrder(GgmlType.IQ4_NL, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0);
        assertThat(BudgetMix.fixedTypes(tiny).get("output.weight")).isEqualTo(GgmlType.Q8_0);
    }
}
