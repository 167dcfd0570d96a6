package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.SharedData;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import tools.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End to end against llama.cpp: raw dev texts tokenized by our tokenizer, llama.cpp's perplexity protocol, vs
 * the llama-perplexity values in ../shared/reference/perplexity.json.
 * <ul>
 *   <li>HF folders (stories260K, feather-3m) on both dev texts vs llama-perplexity's F32 GGUF entry (kv f32 where
 *   it was run, else the default f16 cache) and the numpy llamacpp_rawtext entry: within 0.05 %.</li>
 *   <li>Every block type of ../shared/golden/gguf on the whole of dev.tinystories, once: {@link #LLAMACPP_NUMERICS}
 *   with {@link Numerics} reproducing llama.cpp's CPU rounding of activations (f16, bf16, Q8_0, Q8_1, Q8_K) and its
 *   KV cache, within 0.05 %; one K mix ({@link #FP32_ACTIVATIONS}) again with FP32 activations, within 0.5 %
 *   (llama.cpp rounds activations, we do not). Q4_K_M and Q2_K (Q2_K…Q6_K) are evaluated the same way by
 *   KlDivergenceTest, whose "Mean PPL(Q)" is llama-perplexity's perplexity of the file; the F32 GGUF equals the HF
 *   folder (PerplexityTokenFileTest). {@link #everyGoldenBlockTypeIsEvaluated} proves no type is left out: a mix
 *   only combines block types, so evaluating every type once covers every file (their bytes are the goldens').</li>
 * </ul>
 */
class PerplexityLlamaCppTest {
    static final Path TOKENIZER = SharedData.demoModel("feather-3m");
    /** One file per block type and activation rounding: f16, bf16, Q8_0 (Q8_0, Q4_0, Q5_0), Q8_1 (Q4_1, Q5_1), Q8_K (Q5_K, Q6_K). */
    static final List<String> LLAMACPP_NUMERICS = List.of("feather-3m-F16.gguf", "feather-3m-BF16.gguf", "feather-3m-Q8_0.gguf",
            "feather-3m-Q4_0.gguf", "feather-3m-Q5_0.gguf", "feather-3m-Q4_1.gguf", "feather-3m-Q5_1.gguf", "feather-3m-Q5_K_S.gguf");
    /** Q3_K, Q4_K, Q5_K and Q6_K in one file, with FP32 activations (the path of our own evaluations). */
    static final List<String> FP32_ACTIVATIONS = List.of("feather-3m-Q3_K_M.gguf");
    /** Evaluated with llama.cpp's numerics against llama-perplexity --kl-divergence by KlDivergenceTest. */
    static final List<String> IN_KL_DIVERGENCE_TEST = List.of("feather-3m-Q4_K_M.gguf", "feather-3m-Q2_K.gguf");

    @TestFactory
    List<DynamicTest> hfFoldersOnRawText() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String model : List.of("stories260K", "feather-3m")) {
            for (String text : List.of("dev.tinystories", "dev.wikitext")) {
                JsonNode ref = llamaPerplexity(model + "-F32.gguf", text);
                JsonNode numpy = ReferenceEntries.results(r -> "numpy-fp32".equals(ReferenceEntries.s(r, "source"))
                        && model.equals(ReferenceEntries.s(r, "model")) && text.equals(ReferenceEntries.s(r, "text"))
                        && "llamacpp_rawtext".equals(ReferenceEntries.s(r, "mode"))).getFirst();
                tests.add(DynamicTest.dynamicTest(model + " " + text, () -> {
                    Perplexity.Result r = run(SharedData.shared("models").resolve(model), text, 0.05, ref, Numerics.FP32);
                    assertThat(r.perplexity()).isCloseTo(numpy.get("perplexity").asDouble(), Percentage.withPercentage(0.05));
                }));
            }
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> goldenGgufFiles() {
        Path dir = SharedData.shared("golden/gguf");
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : LLAMACPP_NUMERICS) {
            JsonNode ref = llamaPerplexity(name, "dev.tinystories");
            Numerics n = "f32".equals(ReferenceEntries.s(ref, "kv")) ? Numerics.LLAMACPP_KV_F32 : Numerics.LLAMACPP_KV_F16;
            tests.add(DynamicTest.dynamicTest(name + " dev.tinystories " + n.label(), () -> run(dir.resolve(name), "dev.tinystories", 0.05, ref, n)));
        }
        for (String name : FP32_ACTIVATIONS) {
            JsonNode ref = llamaPerplexity(name, "dev.tinystories");
            tests.add(DynamicTest.dynamicTest(name + " dev.tinystories fp32", () -> run(dir.resolve(name), "dev.tinystories", 0.5, ref, Numerics.FP32)));
        }
        return tests;
    }

    /** The union of the block types of the files evaluated above and in KlDivergenceTest is every golden file's. */
    @org.junit.jupiter.api.Test
    void everyGoldenBlockTypeIsEvaluated() throws Exception {
        Path dir = SharedData.shared("golden/gguf");
        java.util.Set<dev.featherweight.kernels.core.GgmlType> all = new java.util.TreeSet<>(), evaluated = new java.util.TreeSet<>();
        List<String> chosen = new ArrayList<>(LLAMACPP_NUMERICS);
        chosen.addAll(FP32_ACTIVATIONS);
        chosen.addAll(IN_KL_DIVERGENCE_TEST);
        List<Path> files;
        try (var s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".gguf")).sorted().toList();
        }
        assertThat(files).hasSizeGreaterThan(20);
        for (Path f : files) {
            try (var gguf = dev.featherweight.kernels.formats.gguf.GgufFile.open(f)) {
                for (var t : gguf.tensorInfos()) {
                    all.add(t.type());
                    if (chosen.contains(f.getFileName().toString())) evaluated.add(t.type());
                }
            }
        }
        System.out.println("golden block types " + all + ", evaluated " + evaluated);
        assertThat(evaluated).isEqualTo(all);
        assertThat(all).contains(dev.featherweight.kernels.core.GgmlType.Q2_K, dev.featherweight.kernels.core.GgmlType.Q3_K,
                dev.featherweight.kernels.core.GgmlType.Q5_K, dev.featherweight.kernels.core.GgmlType.Q4_1);
    }

    /** The llama-perplexity entry for a file and text: kv f32 when it exists, else kv f16. */
    static JsonNode llamaPerplexity(String file, String text) {
        List<JsonNode> rs = ReferenceEntries.results(r -> "llama-perplexity".equals(ReferenceEntries.s(r, "source"))
                && file.equals(ReferenceEntries.s(r, "file")) && text.equals(ReferenceEntries.s(r, "text")));
        assertThat(rs).as("llama-perplexity entries for %s %s", file, text).isNotEmpty();
        return rs.stream().filter(r -> "f32".equals(ReferenceEntries.s(r, "kv"))).findFirst().orElse(rs.getFirst());
    }

    static Perplexity.Result run(Path model, String text, double percent, JsonNode ref, Numerics numerics) throws Exception {
        String raw = Files.readString(SharedData.shared("eval").resolve(text + ".txt"));
        try (Parallel pool = new Parallel(2); LoadedModel lm = ModelLoader.open(model, TOKENIZER, pool)) {
            int[] ids = lm.encode(raw);
            var c = lm.model().config();
            Perplexity.Result r = Perplexity.run(lm.model(), ids, new Perplexity.Options(Perplexity.Mode.LLAMACPP, ref.get("ctx").asInt(), 0, 0, c.addBos(), c.bosId(), numerics));
            double want = ref.get("perplexity").asDouble();
            System.out.printf("%s %s %s: ppl %.4f vs llama-perplexity %.4f (kv %s) rel %.3f%% | %d chunks %d scored, %.1f s, %.0f tok/s%n",
                    model.getFileName(), text, numerics.label(), r.perplexity(), want, ref.get("kv").asString(), 100 * Math.abs(r.perplexity() / want - 1),
                    r.chunks(), r.tokensScored(), r.seconds(), r.tokensPerSecond());
            assertThat(r.chunks()).isEqualTo(ref.get("n_chunks").asInt());
            assertThat(r.tokensScored()).isEqualTo(ref.get("tokens_scored").asLong());
            assertThat(r.perplexity()).isCloseTo(want, Percentage.withPercentage(percent));
            return r;
        }
    }
}
