package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.formats.FormatException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleConsumer;

/**
 * Perplexity of a token sequence, deterministically, in three protocols:
 * <ul>
 *   <li>{@link Mode#LLAMACPP}: llama.cpp's {@code llama-perplexity} (tools/perplexity/perplexity.cpp,
 *   {@code perplexity()}): n_chunks = floor(n/ctx) (or fewer), each chunk run from position 0 with its first
 *   token replaced by BOS when the model adds BOS, only the second half scored — the predictions from
 *   positions ctx/2 … ctx−2 (ctx/2 − 1 tokens per chunk); its running value after each chunk is
 *   exp(Σnll/count) so far. Needs at least 2·ctx tokens, like llama.cpp.</li>
 *   <li>{@link Mode#SLIDING}: the Hugging Face recipe (docs "Perplexity of fixed-length models"): windows of
 *   max_length = ctx starting every stride tokens, targets before the previous window's end masked; each
 *   window's mean loss weighted by its number of targets minus one, as that recipe does.</li>
 *   <li>{@link Mode#CHUNKS}: non-overlapping chunks of ctx, every prediction after the first token scored.</li>
 * </ul>
 * Log-softmax as llama.cpp: max in float, Σexp(l − max) in double.
 */
public final class Perplexity {
    public enum Mode {
        LLAMACPP, SLIDING, CHUNKS;

        public static Mode parse(String s) {
            for (Mode m : values()) if (m.name().equalsIgnoreCase(s.trim())) return m;
            throw new IllegalArgumentException("mode must be llamacpp, sliding or chunks, got '" + s + "'");
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What to compute. chunks ≤ 0 = all (windows, in SLIDING); stride used by SLIDING only (≤ 0 → ctx/2). */
    public record Options(Mode mode, int ctx, int chunks, int stride, boolean addBos, int bosId, Numerics numerics) {
        public Options(Mode mode, int ctx, int chunks, int stride, boolean addBos, int bosId) {
            this(mode, ctx, chunks, stride, addBos, bosId, Numerics.FP32);
        }

        public static Options llamacpp(int ctx, int chunks, int bosId) {
            return new Options(Mode.LLAMACPP, ctx, chunks, 0, true, bosId);
        }

        public Options withNumerics(Numerics n) {
            return new Options(mode, ctx, chunks, stride, addBos, bosId, n);
        }
    }

    /**
     * The outcome. nll = mean negative log-likelihood (nats) = ln(perplexity); perplexityError = llama.cpp's
     * "±" (standard error of the mean NLL times PPL); tokensEvaluated = tokens run through the model;
     * running = the running perplexity after each chunk/window.
     */
    public record Result(String mode, int ctx, double perplexity, double nll, double perplexityError, long tokensScored,
                         int chunks, long tokensEvaluated, double seconds, double tokensPerSecond, double[] running) {
    }

    private Perplexity() {
    }

    public static Result run(LlamaModel model, int[] tokens, Options o) {
        return run(model, tokens, o, null);
    }

    /** As {@link #run(LlamaModel, int[], Options)}, calling {@code progress} with the running value after each chunk. */
    public static Result run(LlamaModel model, int[] tokens, Options o, DoubleConsumer progress) {
        if (o.ctx() < 2) throw new IllegalArgumentException("ctx must be >= 2, got " + o.ctx());
        long t0 = System.nanoTime();
        int vocabSize = model.config().vocab();
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocabSize) {
                throw new IllegalArgumentException("token id " + tokens[i] + " at index " + i + " is outside the model's vocabulary of " + vocabSize);
            }
        }
        Acc acc = new Acc(progress, model.source() == null ? null : model.source().path());
        LlamaSession s = model.newSession(o.ctx());
        s.setNumerics(o.numerics());
        int vocab = model.config().vocab();
        long evaluated = 0;
        int chunks = 0;
        switch (o.mode()) {
            case LLAMACPP -> {
                int ctx = o.ctx(), first = ctx / 2;
                if (tokens.length < 2 * ctx) {
                    throw new IllegalArgumentException("llamacpp mode needs at least 2*ctx = " + 2 * ctx + " tokens, got " + tokens.length);
                }
                int n = tokens.length / ctx;
                if (o.chunks() > 0) n = Math.min(n, o.chunks());
                int[] chunk = new int[ctx];
                for (int ci = 0; ci < n; ci++) {
                    int start = ci * ctx;
                    System.arraycopy(tokens, start, chunk, 0, ctx);
                    if (o.addBos()) chunk[0] = o.bosId();
                    float[] logits = s.forward(chunk, 0, ctx, 0, first);
                    for (int i = 0; i < ctx - 1 - first; i++) {
                        acc.add(-logSoftmax(logits, i * vocab, vocab, tokens[start + first + i + 1]));
                    }
                    evaluated += ctx;
                    chunks++;
                    acc.chunkDone();
                }
            }
            case CHUNKS -> {
                int ctx = o.ctx();
                int n = tokens.length / ctx;
                if (o.chunks() > 0) n = Math.min(n, o.chunks());
                if (n == 0) throw new IllegalArgumentException("chunks mode needs at least ctx = " + ctx + " tokens, got " + tokens.length);
                for (int ci = 0; ci < n; ci++) {
                    int start = ci * ctx;
                    float[] logits = s.forward(tokens, start, ctx, 0, 0);
                    for (int i = 0; i < ctx - 1; i++) acc.add(-logSoftmax(logits, i * vocab, vocab, tokens[start + i + 1]));
                    evaluated += ctx;
                    chunks++;
                    acc.chunkDone();
                }
            }
            case SLIDING -> {
                int maxLen = o.ctx(), stride = o.stride() > 0 ? o.stride() : o.ctx() / 2, len = tokens.length;
                if (stride > maxLen) throw new IllegalArgumentException("stride " + stride + " exceeds max length " + maxLen);
                if (len < 2) throw new IllegalArgumentException("sliding mode needs at least 2 tokens");
                int prevEnd = 0;
                for (int begin = 0; begin < len; begin += stride) {
                    int end = Math.min(begin + maxLen, len), w = end - begin, trg = end - prevEnd;
                    // Labels at window positions [w − trg, w) are targets; position 0 has no prediction.
                    int firstTarget = Math.max(1, w - trg);
                    float[] logits = s.forward(tokens, begin, w, 0, firstTarget - 1);
                    double sum = 0;
                    int nTargets = w - firstTarget;
                    for (int p = firstTarget; p < w; p++) sum += -logSoftmax(logits, (p - firstTarget) * vocab, vocab, tokens[begin + p]);
                    // HF weights each window's mean loss by (targets − 1): num_valid_tokens − batch_size.
                    int weight = trg - 1;
                    if (nTargets > 0 && weight > 0) acc.addWeighted(sum / nTargets, weight);
                    evaluated += w;
                    chunks++;
                    acc.chunkDone();
                    prevEnd = end;
                    if (end == len || (o.chunks() > 0 && chunks >= o.chunks())) break;
                }
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (acc.count == 0) throw new IllegalArgumentException("no token was scored (" + tokens.length + " tokens, ctx " + o.ctx() + ")");
        double nll = acc.nll / acc.count;
        double ppl = Math.exp(nll);
        double var = acc.nll2 / acc.count - nll * nll;
        double err = var > 0 && acc.count > 1 ? Math.sqrt(var / (acc.count - 1)) * ppl : 0;
        double[] running = acc.running.stream().mapToDouble(Double::doubleValue).toArray();
        return new Result(o.mode().label(), o.ctx(), ppl, nll, err, acc.count, chunks, evaluated, seconds, evaluated / seconds, running);
    }

    /** log softmax(logits[off .. off+vocab))[tok], as llama.cpp: float max, double Σexp. */
    public static double logSoftmax(float[] logits, int off, int vocab, int tok) {
        float max = logits[off];
        for (int i = 1; i < vocab; i++) max = Math.max(max, logits[off + i]);
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += Math.exp(logits[off + i] - max);
        return logits[off + tok] - max - Math.log(sum);
    }

    private static final class Acc {
        final DoubleConsumer progress;
        final Path model;
        final List<Double> running = new ArrayList<>();
        double nll, nll2;
        long count;

        Acc(DoubleConsumer progress, Path model) {
            this.progress = progress;
            this.model = model;
        }

        void add(double v) {
            nll += v;
            nll2 += v * v;
            count++;
        }

        void addWeighted(double meanLoss, int weight) {
            nll += meanLoss * weight;
            nll2 += meanLoss * meanLoss * weight;
            count += weight;
        }

        void chunkDone() {
            double r = Math.exp(nll / count);
            // a NaN or infinite perplexity is never a result: the weights or the activations went non-finite
            if (!Double.isFinite(r)) {
                throw new FormatException(FormatException.Kind.NON_FINITE, model, null, "perplexity became " + r + " at chunk " + (running.size() + 1)
                        + " (mean NLL " + nll / count + "): the model's activations are not finite");
            }
            running.add(r);
            if (progress != null) progress.accept(r);
        }
    }
}
