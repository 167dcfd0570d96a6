package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.SharedData;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import tools.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Perplexity on the shared token files vs the independent numpy FP32 forward pass (modes llamacpp / chunks /
 * sliding, ctx 256), within 0.05 % relative, same number of scored tokens: every entry of stories260K and
 * feather-3m's on dev.tinystories. feather-3m's dev.wikitext entries are left to PerplexityLlamaCppTest, which runs
 * that model on the whole of dev.wikitext (raw text, 121k tokens) against numpy and llama-perplexity; here they would
 * only repeat the three protocols on 260k more tokens.
 */
class PerplexityTokenFileTest {
    @TestFactory
    List<DynamicTest> numpyReferences() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode r : ReferenceEntries.results(r -> "numpy-fp32".equals(ReferenceEntries.s(r, "source"))
                && "token_file".equals(ReferenceEntries.s(r, "tokens_from"))
                && !("feather-3m".equals(ReferenceEntries.s(r, "model")) && "dev.wikitext".equals(ReferenceEntries.s(r, "text"))))) {
            String model = r.get("model").asString(), text = r.get("text").asString(), mode = r.get("mode").asString();
            tests.add(DynamicTest.dynamicTest(model + " " + text + " " + mode, () -> check(r, model, text, mode)));
        }
        assertThat(tests).hasSize(9);
        return tests;
    }

    /** The converter's F32 GGUF (interleaved RoPE after Q/K un-permutation, GGUF names) gives the HF folder's value. */
    @TestFactory
    List<DynamicTest> f32GgufEqualsTheHfFolder() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode r : ReferenceEntries.results(r -> "numpy-fp32".equals(ReferenceEntries.s(r, "source"))
                && "feather-3m".equals(ReferenceEntries.s(r, "model")) && "token_file".equals(ReferenceEntries.s(r, "tokens_from"))
                && "llamacpp".equals(ReferenceEntries.s(r, "mode")) && "dev.tinystories".equals(ReferenceEntries.s(r, "text")))) {
            tests.add(DynamicTest.dynamicTest("feather-3m-F32.gguf dev.tinystories llamacpp", () -> {
                Path eval = SharedData.shared("eval");
                int[] tokens = ForwardLogitsTest.readTokens(eval.resolve("dev.tinystories.tokens.u32"), r.get("tokens_used").asInt());
                try (LlamaModel m = TestModels.loadHf(SharedData.shared("golden/gguf/feather-3m-F32.gguf"))) {
                    assertThat(m.config().ropeLayout()).isEqualTo(LlamaModel.RopeLayout.INTERLEAVED);
                    Perplexity.Result res = Perplexity.run(m, tokens, new Perplexity.Options(Perplexity.Mode.LLAMACPP, r.get("ctx").asInt(), 0, 0, true, 1));
                    System.out.printf("feather-3m-F32.gguf token file llamacpp: %.6f vs numpy %.6f%n", res.perplexity(), r.get("perplexity").asDouble());
                    assertThat(res.perplexity()).isCloseTo(r.get("perplexity").asDouble(), org.assertj.core.data.Percentage.withPercentage(0.05));
                }
            }));
        }
        assertThat(tests).hasSize(1);
        return tests;
    }

    private static void check(JsonNode r, String model, String text, String mode) throws Exception {
        Path eval = SharedData.shared("eval");
        int[] tokens = ForwardLogitsTest.readTokens(eval.resolve(text + ".tokens.u32"), r.get("tokens_used").asInt());
        int ctx = r.get("ctx").asInt();
        Perplexity.Options o = switch (mode) {
            case "llamacpp" -> new Perplexity.Options(Perplexity.Mode.LLAMACPP, ctx, 0, 0, r.get("add_bos").asBoolean(), 1);
            case "chunks" -> new Perplexity.Options(Perplexity.Mode.CHUNKS, ctx, 0, 0, false, 1);
            case "sliding" -> new Perplexity.Options(Perplexity.Mode.SLIDING, r.get("max_length").asInt(), 0, r.get("stride").asInt(), false, 1);
            default -> throw new IllegalArgumentException(mode);
        };
        try (LlamaModel m = TestModels.loadHf(SharedData.shared("models").resolve(model))) {
            Perplexity.Result res = Perplexity.run(m, tokens, o);
            double ref = r.get("perplexity").asDouble();
            System.out.printf("%s %s %s: ppl %.6f ref %.6f rel %.2e scored %d (ref %d) %.1f s %.0f tok/s%n", model, text, mode,
                    res.perplexity(), ref, Math.abs(res.perplexity() / ref - 1), res.tokensScored(), r.get("tokens_scored").asLong(),
                    res.seconds(), res.tokensPerSecond());
            assertThat(res.tokensScored()).isEqualTo(r.get("tokens_scored").asLong());
            assertThat(res.perplexity()).isCloseTo(ref, org.assertj.core.data.Percentage.withPercentage(0.05));
        }
    }
}
