package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.formats.BaseLogitsFile;
import dev.featherweight.kernels.formats.FormatException;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * KL divergence of a (quantized) model against a base model, as {@code llama-perplexity --kl-divergence} computes it
 * (tools/perplexity/perplexity.cpp): the base model runs once over a text in llama.cpp's perplexity protocol and its
 * log-probabilities of the scored half of each chunk go to a base logits file ({@link BaseLogitsFile}, llama.cpp's
 * format); the model then runs over the same tokens and each scored position contributes its NLL, the base's NLL (from
 * the stored codes), KL(base ‖ model) over the base entries with log-prob > −16, the change of the token's probability
 * Δp = p − p_base, and whether both argmaxes agree. The per-token arithmetic keeps llama.cpp's float/double split
 * (float NLLs and products, double sums), so the statistics agree with its printout to its printed digits.
 */
public final class KlDivergence {
    private KlDivergence() {
    }

    /** The base run: the base model's perplexity (llama.cpp protocol) over the chunks written to the file. */
    public record BaseRun(Path file, int ctx, int chunks, long tokensScored, double perplexity, double perplexityError, double seconds) {
    }

    /**
     * Everything {@code llama-perplexity --kl-divergence} prints, as fractions (not percent). *Unc = the printed ±.
     * lnPplCorrelation = Cor(ln PPL(Q), ln PPL(base)); kldP999 … kldP01 = its percentiles (linear between sorted
     * values, in float as there); deltaP* = p − p_base of the token.
     */
    public record Result(int ctx, int chunks, long tokens,
                         double pplModel, double pplModelUnc, double pplBase, double pplBaseUnc, double lnPplCorrelation,
                         double lnPplRatio, double lnPplRatioUnc, double pplRatio, double pplRatioUnc, double pplDiff, double pplDiffUnc,
                         double kldMean, double kldMeanUnc, double kldMax, double kld999, double kld99, double kld95, double kld90,
                         double kldMedian, double kld10, double kld5, double kld1, double kld01, double kldMin,
                         double deltaPMean, double deltaPMeanUnc, double deltaPMax, double deltaP999, double deltaP99, double deltaP95,
                         double deltaP90, double deltaP75, double deltaPMedian, double deltaP25, double deltaP10, double deltaP5,
                         double deltaP1, double deltaP01, double deltaPMin, double deltaPRms, double deltaPRmsUnc,
                         double sameTopP, double sameTopPUnc, double seconds, double tokensPerSecond) {
    }

    /**
     * Runs the base model over tokens (llama.cpp protocol: chunks of ctx from position 0, BOS substituted first, the
     * second half scored) and writes llama-perplexity's base logits file. chunks ≤ 0 = all whole chunks.
     */
    public static BaseRun writeBase(LlamaModel base, int[] tokens, int ctx, int chunks, Numerics numerics, Path out, IntConsumer chunkDone) {
        long t0 = System.nanoTime();
        var c = base.config();
        if (tokens.length < 2 * ctx) {
            throw new IllegalArgumentException("KL divergence needs at least 2*ctx = " + 2 * ctx + " tokens, got " + tokens.length);
        }
        int n = tokens.length / ctx;
        if (chunks > 0) n = Math.min(n, chunks);
        int vocab = c.vocab(), first = ctx / 2, rows = BaseLogitsFile.rowsPerChunk(ctx), nv = BaseLogitsFile.rowValues(vocab);
        LlamaSession s = base.newSession(ctx);
        s.setNumerics(numerics);
        short[] codes = new short[rows * nv];
        double[] nll = new double[rows];
        int[] chunk = new int[ctx];
        double sum = 0, sum2 = 0;
        try (BaseLogitsFile.Writer w = new BaseLogitsFile.Writer(out, ctx, vocab, tokens, n)) {
            for (int ci = 0; ci < n; ci++) {
                int start = ci * ctx;
                System.arraycopy(tokens, start, chunk, 0, ctx);
                if (c.addBos()) chunk[0] = c.bosId();
                float[] logits = s.forward(chunk, 0, ctx, 0, first);
                base.pool().forEach(rows, i -> nll[i] = BaseLogitsFile.encodeRow(logits, i * vocab, vocab, tokens[start + first + i + 1], codes, i * nv));
                for (int i = 0; i < rows; i++) {
                    sum += nll[i];
                    sum2 += nll[i] * nll[i];
                }
                w.writeChunk(codes);
                if (chunkDone != null) chunkDone.accept(ci + 1);
            }
        }
        long count = (long) n * rows;
        double mean = sum / count, var = sum2 / count - mean * mean, ppl = Math.exp(mean);
        double err = var > 0 ? Math.sqrt(var / (count - 1)) * ppl : 0;
        return new BaseRun(out, ctx, n, count, ppl, err, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Compares a model with a base logits file: the tokens and ctx come from the file, as llama-perplexity takes them
     * (chunks ≤ 0 = all of the file's chunks). The file is read one chunk at a time.
     */
    public static Result compare(LlamaModel model, Path baseFile, int chunks, Numerics numerics, IntConsumer chunkDone) {
        long t0 = System.nanoTime();
        var c = model.config();
        try (BaseLogitsFile.Reader in = new BaseLogitsFile.Reader(baseFile)) {
            if (in.vocab() != c.vocab()) {
                throw new FormatException(FormatException.Kind.CONFIG, baseFile, null, "base logits are over a vocabulary of " + in.vocab()
                        + ", the model's is " + c.vocab() + ": not the same tokenizer");
            }
            int ctx = in.ctx(), vocab = in.vocab(), first = ctx / 2, rows = BaseLogitsFile.rowsPerChunk(ctx), nv = BaseLogitsFile.rowValues(vocab);
            int n = chunks > 0 ? Math.min(chunks, in.chunks()) : in.chunks();
            int[] tokens = in.tokens();
            LlamaSession s = model.newSession(ctx);
            s.setNumerics(numerics);
            short[] codes = new short[rows * nv];
            int[] chunk = new int[ctx];
            Row[] perRow = new Row[rows];
            float[] kldValues = new float[n * rows], pDiffValues = new float[n * rows];
            Sums sums = new Sums();
            for (int ci = 0; ci < n; ci++) {
                int start = ci * ctx;
                in.readChunk(codes);
                System.arraycopy(tokens, start, chunk, 0, ctx);
                if (c.addBos()) chunk[0] = c.bosId();
                float[] logits = s.forward(chunk, 0, ctx, 0, first);
                model.pool().forEach(rows, i -> perRow[i] = row(logits, i * vocab, vocab, codes, i * nv, tokens[start + first + i + 1]));
                // summed in position order, so the result does not depend on the thread count
                for (int i = 0; i < rows; i++) {
                    sums.add(perRow[i]);
                    kldValues[ci * rows + i] = (float) perRow[i].kld;
                    pDiffValues[ci * rows + i] = perRow[i].pDiff;
                }
                if (!Double.isFinite(sums.kld)) {
                    throw new FormatException(FormatException.Kind.NON_FINITE, model.source() == null ? null : model.source().path(), null,
                            "KL divergence became " + sums.kld + " at chunk " + (ci + 1) + ": the model's activations are not finite");
                }
                if (chunkDone != null) chunkDone.accept(ci + 1);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            return sums.result(ctx, n, kldValues, pDiffValues, seconds, (double) n * ctx / seconds);
        }
    }

    /** One scored position: its NLLs (float, as llama.cpp keeps them), KL term, Δp and top-token agreement. */
    record Row(float nll, float nllBase, double kld, float pDiff, boolean sameTop) {
    }

    /** llama.cpp's log_softmax against a stored base row (perplexity.cpp), the float/double split kept. */
    static Row row(float[] logits, int off, int vocab, short[] base, int baseOff, int token) {
        float max = logits[off];
        int imax = 0;
        for (int i = 1; i < vocab; i++) {
            if (logits[off + i] > max) {
                max = logits[off + i];
                imax = i;
            }
        }
        double sumExp = 0;
        for (int i = 0; i < vocab; i++) sumExp += (float) Math.exp(logits[off + i] - max);
        float logSumExp = (float) Math.log(sumExp);
        float scale = BaseLogitsFile.scale(base, baseOff), minLogProb = BaseLogitsFile.minLogProb(base, baseOff);
        int codes = baseOff + 4;
        float nll = max + logSumExp - logits[off + token];
        float nllBase = -(scale * (base[codes + token] & 0xFFFF) + minLogProb);
        float logNorm = max + logSumExp;
        double kld = 0;
        int imaxBase = -1;
        float baseMax = 0;
        for (int i = 0; i < vocab; i++) {
            float logPBase = scale * (base[codes + i] & 0xFFFF) + minLogProb;
            if (i == 0 || logPBase > baseMax) {
                baseMax = logPBase;
                imaxBase = i;
            }
            if (logPBase > -16f) {
                float pBase = (float) Math.exp(logPBase);
                kld += pBase * (logPBase - logits[off + i] + logNorm);
            }
        }
        float pDiff = (float) Math.exp(-nll) - (float) Math.exp(-nllBase);
        return new Row(nll, nllBase, kld, pDiff, imax == imaxBase);
    }

    /** llama.cpp's kl_divergence_result: double sums of float terms. */
    static final class Sums {
        double nll, nll2, nllBase, nllBase2, nllNllBase, kld, kld2, pDiff, pDiff2, pDiff4;
        long sameTop, count;

        void add(Row r) {
            nll += r.nll;
            nll2 += r.nll * r.nll;
            nllBase += r.nllBase;
            nllBase2 += r.nllBase * r.nllBase;
            nllNllBase += r.nll * r.nllBase;
            kld += r.kld;
            kld2 += r.kld * r.kld;
            pDiff += r.pDiff;
            double d2 = r.pDiff * r.pDiff;
            pDiff2 += d2;
            pDiff4 += d2 * d2;
            if (r.sameTop) sameTop++;
            count++;
        }

        /** mean and its standard error: 0 for fewer than 11 values, as llama.cpp. */
        static double[] meanAndUnc(double sum, double sum2, long count) {
            if (count < 1) return new double[]{0, 0};
            double f = sum / count, df = sum2 / count - f * f;
            return new double[]{f, df > 0 && count > 10 ? Math.sqrt(df / (count - 1)) : 0};
        }

        static double covariance(double a, double b, double ab, long count) {
            if (count < 10) return 0;
            return (ab / count - (a / count) * (b / count)) / (count - 1);
        }

        Result result(int ctx, int chunks, float[] kldValues, float[] pDiffValues, double seconds, double tokensPerSecond) {
            double[] lnPpl = meanAndUnc(nll, nll2, count), lnBase = meanAndUnc(nllBase, nllBase2, count);
            double ppl = Math.exp(lnPpl[0]), pplUnc = ppl * lnPpl[1];
            double pplBase = Math.exp(lnBase[0]), pplBaseUnc = pplBase * lnBase[1];
            double cov = covariance(nll, nllBase, nllNllBase, count);
            double cor = cov / (lnPpl[1] * lnBase[1]);
            double ratio = lnPpl[0] - lnBase[0];
            double ratioUnc = Math.sqrt(lnPpl[1] * lnPpl[1] + lnBase[1] * lnBase[1] - 2 * cov);
            double pplRatio = Math.exp(ratio);
            double pplCov = ppl * pplBase * cov;
            double pplDiffUnc = Math.sqrt(pplUnc * pplUnc + pplBaseUnc * pplBaseUnc - 2 * pplCov);
            double[] k = meanAndUnc(kld, kld2, count), dp = meanAndUnc(pDiff, pDiff2, count), mse = meanAndUnc(pDiff2, pDiff4, count);
            double rms = Math.sqrt(mse[0]);
            double same = (double) sameTop / count;
            float[] kv = kldValues.clone(), pv = pDiffValues.clone();
            Arrays.sort(kv);
            Arrays.sort(pv);
            return new Result(ctx, chunks, count, ppl, pplUnc, pplBase, pplBaseUnc, cor, ratio, ratioUnc, pplRatio, pplRatio * ratioUnc,
                    ppl - pplBase, pplDiffUnc, k[0], k[1], kv[kv.length - 1], percentile(kv, 0.999f), percentile(kv, 0.99f),
                    percentile(kv, 0.95f), percentile(kv, 0.90f), median(kv), percentile(kv, 0.10f), percentile(kv, 0.05f),
                    percentile(kv, 0.01f), percentile(kv, 0.001f), kv[0],
                    dp[0], dp[1], pv[pv.length - 1], percentile(pv, 0.999f), percentile(pv, 0.99f), percentile(pv, 0.95f),
                    percentile(pv, 0.90f), percentile(pv, 0.75f), median(pv), percentile(pv, 0.25f), percentile(pv, 0.10f),
                    percentile(pv, 0.05f), percentile(pv, 0.01f), percentile(pv, 0.001f), pv[0],
                    rms, 0.5 / rms * mse[1], same, Math.sqrt(same * (1 - same) / (count - 1)), seconds, tokensPerSecond);
        }
    }

    /** llama.cpp's percentile of sorted values: linear between neighbours, in float. */
    static float percentile(float[] sorted, float fraction) {
        if (fraction <= 0) return sorted[0];
        if (fraction >= 1) return sorted[sorted.length - 1];
        float p = fraction * (sorted.length - 1);
        int ip = (int) p;
        p -= ip;
        return (1 - p) * sorted[ip] + p * sorted[Math.min(ip + 1, sorted.length - 1)];
    }

    static float median(float[] sorted) {
        int n = sorted.length;
        return n % 2 == 0 ? 0.5f * (sorted[n / 2] + sorted[n / 2 - 1]) : sorted[n / 2];
    }
}
