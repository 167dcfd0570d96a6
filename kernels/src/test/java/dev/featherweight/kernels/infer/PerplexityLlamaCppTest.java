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
 *   <li>Every feather-3m GGUF in ../shared/golden/gguf on dev.tinystories vs its llama-perplexity entry (kv f32
 *   where run, else f16): F32 within 0.05 %, all other types within 0.5 % with FP32 activations (llama.cpp
 *   rounds activations to f16 / 8-bit blocks). dev.wikitext runs for the HF folders only, to keep CI short.</li>
 *   <li>One file of every block type again with {@link Numerics} reproducing llama.cpp's CPU rounding (and its
 *   f16 KV cache where the entry used it): within 0.05 %.</li>
 * </ul>
 */
class PerplexityLlamaCppTest {
    static final Path TOKENIZER = SharedData.demoModel("feather-3m");
    /** Files covering each activation rounding: f16, bf16, Q8_0 (Q8_0/Q4_0), Q8_1 (Q5_1), Q8_K (the K mixes: Q2_K…Q6_K). */
    static final List<String> LLAMACPP_NUMERICS = List.of("feather-3m-F16.gguf", "feather-3m-BF16.gguf",
            "feather-3m-Q4_0.gguf", "feather-3m-Q5_1.gguf", "feather-3m-Q2_K.gguf", "feather-3m-Q4_K_M.gguf");

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
    List<DynamicTest> goldenGgufFiles() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        Path dir = SharedData.shared("golden/gguf");
        List<Path> files;
        try (var s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".gguf")).sorted().toList();
        }
        assertThat(files).isNotEmpty();
        for (Path f : files) {
            String name = f.getFileName().toString();
            // The .from-quantize copies hold the same tensor bytes as the converter's F16/BF16 files (other
            // tensor order and KVs): proving that is cheaper than evaluating them again.
            String refName = name.replace(".from-quantize", "");
            if (!refName.equals(name)) continue; // GoldenGgufDuplicatesTest

            boolean f32 = refName.endsWith("-F32.gguf");
            // dev.wikitext: the HF folder test above runs it; the F32 GGUF equals the folder (PerplexityTokenFileTest).
            for (String text : List.of("dev.tinystories")) {
                JsonNode ref = llamaPerplexity(refName, text);
                tests.add(DynamicTest.dynamicTest(name + " " + text + " fp32", () -> run(f, text, f32 ? 0.05 : 0.5, ref, Numerics.FP32)));
            }
            if (LLAMACPP_NUMERICS.contains(name)) {
                JsonNode ref = llamaPerplexity(refName, "dev.tinystories");
                Numerics n = "f32".equals(ReferenceEntries.s(ref, "kv")) ? Numerics.LLAMACPP_KV_F32 : Numerics.LLAMACPP_KV_F16;
                tests.add(DynamicTest.dynamicTest(name + " dev.tinystories " + n.label(), () -> run(f, "dev.tinystories", 0.05, ref, n)));
            }
        }
        return tests;
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
