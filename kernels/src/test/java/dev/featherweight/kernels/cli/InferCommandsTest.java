package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** fw perplexity / generate end to end: stdout carries only the result, errors go to stderr with exit 1. */
class InferCommandsTest {
    record Run(int exit, String out, String err) {
    }

    static synchronized Run fw(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Fw.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void perplexityJsonOnTokenFileMatchesTheNumpyReferenceOfTheSameProtocol() throws Exception {
        Path tokens = SharedData.shared("eval/dev.tinystories.tokens.u32");
        JsonNode ref = null;
        for (JsonNode r : new ObjectMapper().readTree(SharedData.shared("reference/perplexity.json").toFile()).get("results")) {
            if ("numpy-fp32".equals(r.path("source").asString()) && "stories260K".equals(r.path("model").asString())
                    && "dev.tinystories".equals(r.path("text").asString()) && "chunks".equals(r.path("mode").asString())) ref = r;
        }
        assertThat(ref).isNotNull();
        Run run = fw("perplexity", "--model", SharedData.demoModel("stories260K").toString(), "--tokens", tokens.toString(),
                "--mode", "chunks", "--ctx", "256", "--threads", "2", "--json");
        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(run.out());
        assertThat(j.get("perplexity").asDouble()).isCloseTo(ref.get("perplexity").asDouble(), org.assertj.core.data.Percentage.withPercentage(0.05));
        assertThat(j.get("nll").asDouble()).isCloseTo(ref.get("nll_mean").asDouble(), org.assertj.core.data.Offset.offset(1e-4));
        assertThat(j.get("tokens").asLong()).isEqualTo(ref.get("tokens_scored").asLong());
        assertThat(j.get("seconds").asDouble()).isPositive();
        assertThat(j.get("tokensPerSecond").asDouble()).isPositive();
    }

    /** A .gguf with no tokenizer.json beside it tokenizes with its own tokenizer.ggml.* metadata, as llama-perplexity does. */
    @Test
    void perplexityOfAGgufFileOnRawTextUsesTheFilesOwnTokenizer() throws Exception {
        Path gguf = SharedData.shared("golden/gguf/feather-3m-F32.gguf");
        assertThat(gguf.resolveSibling("tokenizer.json")).doesNotExist();
        JsonNode ref = null;
        for (JsonNode r : new ObjectMapper().readTree(SharedData.shared("reference/perplexity.json").toFile()).get("results")) {
            if ("llama-perplexity".equals(r.path("source").asString()) && "feather-3m-F32.gguf".equals(r.path("file").asString())
                    && "dev.tinystories".equals(r.path("text").asString()) && "f32".equals(r.path("kv").asString())) ref = r;
        }
        assertThat(ref).isNotNull();
        Run run = fw("perplexity", "--model", gguf.toString(), "--text", SharedData.shared("eval/dev.tinystories.txt").toString(),
                "--ctx", "256", "--threads", "2", "--json");
        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(run.out());
        assertThat(j.get("tokens").asLong()).isEqualTo(ref.get("tokens_scored").asLong());
        assertThat(j.get("perplexity").asDouble()).isCloseTo(ref.get("perplexity").asDouble(), org.assertj.core.data.Percentage.withPercentage(0.01));
        // llama-perplexity's "±" (printed with 5 decimals)
        assertThat(j.get("perplexityError").asDouble()).isCloseTo(ref.get("ppl_err").asDouble(), org.assertj.core.data.Offset.offset(0.00002));
    }

    @Test
    void perplexityOnTextWithCapsPrintsATable(@TempDir Path tmp) throws Exception {
        Run run = fw("perplexity", "--model", SharedData.demoModel("feather-3m").toString(),
                "--text", SharedData.shared("eval/dev.tinystories.txt").toString(), "--max-tokens", "2048", "--chunks", "3", "--threads", "2");
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out()).containsPattern("Final estimate: PPL = \\d+\\.\\d{4} \\+/- \\d+\\.\\d{5}").contains("3 chunks").contains("381 scored");
    }

    /**
     * fw kld: the base run writes llama.cpp's base logits file, a second run reuses it without --base or --text and
     * prints the same numbers as JSON; the base model against its own file differs only by the file's 16-bit codes.
     */
    @Test
    void kldWritesAndReusesTheBaseLogitsFile(@TempDir Path tmp) throws Exception {
        Path golden = SharedData.shared("golden/gguf"), file = tmp.resolve("base.kld");
        String q4 = golden.resolve("feather-3m-Q4_K_M.gguf").toString();
        Run table = fw("kld", "--base", golden.resolve("feather-3m-F32.gguf").toString(), "--model", q4,
                "--text", SharedData.shared("eval/dev.tinystories.txt").toString(), "--chunks", "3", "--threads", "2", "--base-logits", file.toString());
        assertThat(table.exit()).as(table.err()).isZero();
        assertThat(table.out()).contains("Mean PPL(Q)", "Mean    KLD:", "99.0%   KLD:", "RMS Δp    :", "Same top p:");
        // header, 3 × 256 tokens, 3 × 127 rows of 516 uint16
        assertThat(Files.size(file)).isEqualTo(20 + 4 * 256 * 3 + 2L * 516 * 127 * 3);

        Run again = fw("kld", "--model", q4, "--base-logits", file.toString(), "--threads", "2", "--json");
        assertThat(again.exit()).as(again.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(again.out());
        assertThat(j.get("chunks").asInt()).isEqualTo(3);
        assertThat(j.get("tokens").asLong()).isEqualTo(381);
        assertThat(table.out()).contains(String.format(java.util.Locale.ROOT, "Mean    KLD: %10.6f", j.get("kldMean").asDouble()));
        assertThat(j.get("kldMean").asDouble()).isBetween(1e-4, 0.1);
        assertThat(j.get("sameTopP").asDouble()).isBetween(0.8, 1.0);
        for (String key : new String[]{"pplModel", "pplBase", "kldMedian", "kld99", "kldMax", "deltaPRms"}) assertThat(j.has(key)).as(key).isTrue();

        Run self = fw("kld", "--model", golden.resolve("feather-3m-F32.gguf").toString(), "--base-logits", file.toString(), "--threads", "2", "--json");
        assertThat(self.exit()).as(self.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(self.out());
        assertThat(s.get("kldMean").asDouble()).isLessThan(1e-6);
        assertThat(s.get("pplModel").asDouble()).isCloseTo(s.get("pplBase").asDouble(), org.assertj.core.data.Percentage.withPercentage(0.01));
        assertThat(s.get("sameTopP").asDouble()).isGreaterThan(0.99);
    }

    @Test
    void greedyGenerationReproducesTheReferenceContinuation() throws Exception {
        JsonNode ref = new ObjectMapper().readTree(SharedData.shared("eval/feather-3m.reference.json").toFile());
        int n = ref.get("greedy_ids").size() - ref.get("prompt_ids").size();
        Run run = fw("generate", "--model", SharedData.demoModel("feather-3m").toString(), "--prompt", "", "--tokens", String.valueOf(n), "--threads", "2");
        assertThat(run.exit()).as(run.err()).isZero();
        assertThat(run.out().strip()).isEqualTo(ref.get("greedy_text").asString().strip());
    }

    @Test
    void badInputFailsOnStderrWithNonZeroExit(@TempDir Path tmp) throws Exception {
        Path odd = tmp.resolve("odd.u32");
        Files.write(odd, new byte[]{1, 0, 0});
        Run run = fw("perplexity", "--model", SharedData.demoModel("stories260K").toString(), "--tokens", odd.toString());
        assertThat(run.exit()).isNotZero();
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains("odd.u32");

        Run missing = fw("perplexity", "--model", tmp.resolve("nope").toString(), "--tokens", odd.toString());
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.err()).contains("nope");
    }
}
