package dev.featherweight.kernels.formats.quantized;

import dev.featherweight.kernels.pipeline.modifier.Modifiers;
import dev.featherweight.kernels.pipeline.QuantizeJob;
import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.infer.Perplexity;
import dev.featherweight.kernels.quant.Recipe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 4's accuracy acceptance on feather-3m, as kernels/README.md's table is measured (and as
 * kernels/scripts/methods-acceptance.sh runs it from the command line): calibration 64 samples × 256 tokens of
 * train.tinystories (seed 42), perplexity of the <em>written folder, reloaded from disk</em> in llama.cpp's mode
 * with ctx 256 — here on the first {@value #CHUNKS} of dev.tinystories.txt's 174 chunks (the README's table is the
 * whole text; the relations asserted hold with margins of several times the difference between the two). Prints the
 * table it measured.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MethodsAccuracyTest {
    /**
     * 64 × 256 tokens. Measured there (2026-12-07): RTN 4-bit 6.2889, GPTQ 6.2056, act-order 6.1972, AWQ 6.2463; at
     * 3 bits the margins over RTN grow from 0.083 to 0.131 (GPTQ) and from 0.043 to 0.089 (AWQ) — the same relations,
     * with the same ordering, as on the whole text.
     */
    static final int CHUNKS = 64;

    record Row(String name, double perplexity, double bitsPerWeight, long bytes, double seconds) {
    }

    final Parallel pool = new Parallel(2);
    final Map<String, Row> rows = new LinkedHashMap<>();
    double fp32;
    int[] tokens;

    @BeforeAll
    void measure(@TempDir Path tmp) throws Exception {
        Path model = SharedData.demoModel("feather-3m");
        QuantizeJob.Calibration cal = new QuantizeJob.Calibration(SharedData.shared("eval/train.tinystories.tokens.u32"), 64, 256, 42);
        fp32 = perplexity(model);
        Map<String, Recipe> recipes = new LinkedHashMap<>();
        recipes.put("rtn4", Recipe.of("rtn", Map.of("bits", 4, "groupSize", 128)));
        recipes.put("gptq4", Recipe.of("gptq", Map.of("bits", 4, "groupSize", 128)));
        recipes.put("gptq4act", Recipe.of("gptq", Map.of("bits", 4, "groupSize", 128, "descAct", true)));
        recipes.put("awq4", Recipe.of("awq", Map.of("bits", 4, "groupSize", 128)));
        recipes.put("rtn3", Recipe.of("rtn", Map.of("bits", 3, "groupSize", 128)));
        recipes.put("gptq3", Recipe.of("gptq", Map.of("bits", 3, "groupSize", 128)));
        recipes.put("gptq3act", Recipe.of("gptq", Map.of("bits", 3, "groupSize", 128, "descAct", true)));
        recipes.put("awq3", Recipe.of("awq", Map.of("bits", 3, "groupSize", 128)));
        recipes.put("nf4", Recipe.of("nf4", Map.of()));
        recipes.put("nf4dq", Recipe.of("nf4", Map.of("doubleQuant", true)));
        recipes.put("fp4", Recipe.of("fp4", Map.of()));
        recipes.put("int8", Recipe.of("llm-int8", Map.of()));
        for (Map.Entry<String, Recipe> e : recipes.entrySet()) {
            Path out = tmp.resolve(e.getKey());
            QuantizeJob.Result r = QuantizeJob.run(model, e.getValue(), Modifiers.of(e.getValue()).calibrated() ? cal : null, out, null, null, pool);
            rows.put(e.getKey(), new Row(e.getKey(), perplexity(out), r.bitsPerWeight(), r.fileBytes(), r.seconds()));
        }
        System.out.printf(Locale.ROOT, "%-10s %10s %8s %12s %8s%n", "method", "perplexity", "bpw", "bytes", "seconds");
        System.out.printf(Locale.ROOT, "%-10s %10.4f%n", "fp32", fp32);
        for (Row r : rows.values()) {
            System.out.printf(Locale.ROOT, "%-10s %10.4f %8.3f %12d %8.1f%n", r.name, r.perplexity, r.bitsPerWeight, r.bytes, r.seconds);
        }
    }

    @AfterAll
    void close() {
        pool.close();
    }

    private double perplexity(Path folder) throws Exception {
        try (LoadedModel lm = ModelLoader.open(folder, null, pool)) {
            // every folder carries the source's tokenizer: the text is tokenized once
            if (tokens == null) tokens = lm.encode(Files.readString(SharedData.shared("eval/dev.tinystories.txt")));
            var c = lm.model().config();
            return Perplexity.run(lm.model(), tokens, new Perplexity.Options(Perplexity.Mode.LLAMACPP, 256, CHUNKS, 0, c.addBos(), c.bosId())).perplexity();
        }
    }

    private double ppl(String name) {
        return rows.get(name).perplexity();
    }

    @Test
    void calibratedMethodsBeatRoundToNearestAtFourBits() {
        assertThat(ppl("gptq4")).isLessThan(ppl("rtn4"));
        assertThat(ppl("awq4")).isLessThan(ppl("rtn4"));
        assertThat(ppl("gptq4act")).as("act-order is measured beside plain GPTQ").isLessThan(ppl("rtn4"));
    }

    @Test
    void atThreeBitsByALargerMargin() {
        for (String m : List.of("gptq", "awq")) {
            double margin4 = ppl("rtn4") - ppl(m + "4"), margin3 = ppl("rtn3") - ppl(m + "3");
            assertThat(margin3).as("%s: RTN − %s at 3 bits vs at 4 bits", m, m).isGreaterThan(margin4).isPositive();
        }
        assertThat(ppl("gptq3act")).isLessThan(ppl("rtn3"));
    }

    @Test
    void nf4IsNoWorseThanFp4AndDoubleQuantizationCostsLessThanATenthOfAPercent() {
        assertThat(ppl("nf4")).isLessThanOrEqualTo(ppl("fp4"));
        assertThat(Math.abs(ppl("nf4dq") / ppl("nf4") - 1)).isLessThan(0.001);
        assertThat(rows.get("nf4").bitsPerWeight() - rows.get("nf4dq").bitsPerWeight()).as("bits per weight saved on feather-3m's small matrices")
                .isBetween(0.25, 0.4);
    }

    @Test
    void llmInt8IsWithinHalfAPercentOfFp32() {
        assertThat(Math.abs(ppl("int8") / fp32 - 1)).isLessThan(0.005);
    }

    @Test
    void everyQuantizedModelIsCloseToFp32() {
        for (Row r : rows.values()) assertThat(r.perplexity() / fp32).as(r.name()).isBetween(0.99, r.bitsPerWeight() < 4 ? 1.08 : 1.02);
    }
}
