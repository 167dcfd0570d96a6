package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.infer.KlDivergence;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.infer.Numerics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code fw kld}: KL divergence of a model against a base model, as {@code llama-perplexity --kl-divergence}. */
@Command(name = "kld", mixinStandardHelpOptions = true,
        description = {"KL divergence, top-token agreement and Δp of a model against a base model over a text, as llama-perplexity "
                + "--kl-divergence prints them. The base's log-probs go to a llama.cpp --kl-divergence-base file (--base-logits FILE "
                + "keeps it; an existing FILE is reused and --base, --text, --ctx are then not needed)."})
public final class KldCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--base", description = "base model: Hugging Face folder or .gguf file (not needed with an existing --base-logits)")
    Path base;

    @Option(names = "--model", required = true, description = "the model to compare: .gguf file, or a HF / GPTQ / AWQ / bnb folder")
    Path model;

    @Option(names = "--text", description = "UTF-8 text file, tokenized whole with BOS (as llama-perplexity does)")
    Path text;

    @Option(names = "--tokens", description = "little-endian uint32 token ids")
    Path tokens;

    @Option(names = "--base-logits", description = "llama.cpp base logits file: read when it exists, else written")
    Path baseLogits;

    @Option(names = "--ctx", defaultValue = "256", description = "chunk length, default ${DEFAULT-VALUE} (from the file when reusing one)")
    int ctx;

    @Option(names = "--chunks", defaultValue = "-1", description = "at most this many chunks (default all)")
    int chunks;

    @picocli.CommandLine.Mixin
    ScoringOptions scoring;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() throws Exception {
        boolean reuse = baseLogits != null && Files.exists(baseLogits);
        if (!reuse) {
            if (base == null) throw new ParameterException(spec.commandLine(), "--base is required unless --base-logits names an existing file");
            if ((text == null) == (tokens == null)) throw new ParameterException(spec.commandLine(), "give exactly one of --text or --tokens");
        }
        Numerics n = scoring.numerics();
        PrintStream err = System.err;
        Path file = baseLogits != null ? baseLogits : Files.createTempFile("fw-kld-base", ".kld");
        try (Parallel pool = scoring.pool()) {
            KlDivergence.BaseRun baseRun = null;
            if (!reuse) {
                try (LoadedModel lm = ModelLoader.open(base, scoring.tokenizer, pool)) {
                    int[] ids = tokens != null ? PerplexityCommand.readTokens(tokens) : lm.encode(Files.readString(text));
                    baseRun = KlDivergence.writeBase(lm.model(), ids, ctx, chunks, n, file, null);
                }
                if (!json) err.printf(Locale.ROOT, "base: %d chunks of %d, PPL %.4f +/- %.5f, %.1f s, logits in %s%n", baseRun.chunks(), baseRun.ctx(),
                        baseRun.perplexity(), baseRun.perplexityError(), baseRun.seconds(), baseLogits != null ? file : "a temporary file");
            }
            KlDivergence.Result r;
            try (LoadedModel lm = ModelLoader.open(model, scoring.tokenizer, pool)) {
                r = KlDivergence.compare(lm.model(), file, chunks, n, null);
            }
            if (json) {
                ObjectMapper mapper = new ObjectMapper();
                ObjectNode j = mapper.createObjectNode();
                j.put("model", model.toString());
                if (base != null) j.put("base", base.toString());
                if (baseLogits != null) j.put("baseLogits", baseLogits.toString());
                j.put("numerics", n.label());
                if (baseRun != null) {
                    j.put("basePerplexity", baseRun.perplexity());
                    j.put("basePerplexityError", baseRun.perplexityError());
                }
                j.setAll((ObjectNode) mapper.valueToTree(r));
                System.out.println(j);
            } else {
                print(System.out, r);
            }
        } finally {
            if (baseLogits == null) Files.deleteIfExists(file);
        }
        return 0;
    }

    /** The three blocks of statistics as llama-perplexity prints them (its labels and digits). */
    static void print(PrintStream o, KlDivergence.Result r) {
        o.printf(Locale.ROOT, "chunks %d of %d tokens, %d positions scored, %.1f s (%.0f tokens/s)%n%n", r.chunks(), r.ctx(), r.tokens(),
                r.seconds(), r.tokensPerSecond());
        o.println("====== Perplexity statistics ======");
        o.printf(Locale.ROOT, "Mean PPL(Q)                   : %10.6f ± %10.6f%n", r.pplModel(), r.pplModelUnc());
        o.printf(Locale.ROOT, "Mean PPL(base)                : %10.6f ± %10.6f%n", r.pplBase(), r.pplBaseUnc());
        o.printf(Locale.ROOT, "Cor(ln(PPL(Q)), ln(PPL(base))): %6.2f%%%n", 100 * r.lnPplCorrelation());
        o.printf(Locale.ROOT, "Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f%n", r.lnPplRatio(), r.lnPplRatioUnc());
        o.printf(Locale.ROOT, "Mean PPL(Q)/PPL(base)         : %10.6f ± %10.6f%n", r.pplRatio(), r.pplRatioUnc());
        o.printf(Locale.ROOT, "Mean PPL(Q)-PPL(base)         : %10.6f ± %10.6f%n%n", r.pplDiff(), r.pplDiffUnc());
        o.println("====== KL divergence statistics ======");
        o.printf(Locale.ROOT, "Mean    KLD: %10.6f ± %10.6f%n", r.kldMean(), r.kldMeanUnc());
        String[] kLabels = {"Maximum", "99.9%  ", "99.0%  ", "95.0%  ", "90.0%  ", "Median ", "10.0%  ", " 5.0%  ", " 1.0%  ", " 0.1%  ", "Minimum"};
        double[] k = {r.kldMax(), r.kld999(), r.kld99(), r.kld95(), r.kld90(), r.kldMedian(), r.kld10(), r.kld5(), r.kld1(), r.kld01(), r.kldMin()};
        for (int i = 0; i < k.length; i++) o.printf(Locale.ROOT, "%s KLD: %10.6f%n", kLabels[i], k[i]);
        o.println();
        o.println("====== Token probability statistics ======");
        o.printf(Locale.ROOT, "Mean    Δp: %6.3f ± %5.3f %%%n", 100 * r.deltaPMean(), 100 * r.deltaPMeanUnc());
        String[] pLabels = {"Maximum", "99.9%  ", "99.0%  ", "95.0%  ", "90.0%  ", "75.0%  ", "Median ", "25.0%  ", "10.0%  ", " 5.0%  ", " 1.0%  ",
                " 0.1%  ", "Minimum"};
        double[] p = {r.deltaPMax(), r.deltaP999(), r.deltaP99(), r.deltaP95(), r.deltaP90(), r.deltaP75(), r.deltaPMedian(), r.deltaP25(),
                r.deltaP10(), r.deltaP5(), r.deltaP1(), r.deltaP01(), r.deltaPMin()};
        for (int i = 0; i < p.length; i++) o.printf(Locale.ROOT, "%s Δp: %6.3f%%%n", pLabels[i], 100 * p[i]);
        o.printf(Locale.ROOT, "RMS Δp    : %6.3f ± %5.3f %%%n", 100 * r.deltaPRms(), 100 * r.deltaPRmsUnc());
        o.printf(Locale.ROOT, "Same top p: %6.3f ± %5.3f %%%n", 100 * r.sameTopP(), 100 * r.sameTopPUnc());
    }
}
