package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.formats.HellaSwagTasks;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Multiple-choice accuracy as {@code llama-perplexity --hellaswag} scores it (acc_norm, tools/perplexity/perplexity.cpp):
 * each ending is tokenized as context + " " + ending with BOS; the tokens all four share are run once and the KV cache
 * they leave is reused for each ending; an ending's score is the mean log-probability of its tokens after the shared
 * prefix (the first from the prefix's last logits, then each next token), and the task is right when the gold ending
 * scores highest (first one on a tie). Tasks are visited in llama-perplexity's order — drawn one by one with
 * std::mt19937(1) and libstdc++'s uniform_int_distribution from those left — so a limit picks the same tasks and the
 * running accuracy is the one it prints.
 */
public final class HellaSwag {
    private HellaSwag() {
    }

    /**
     * accuracy = acc_norm as a fraction; accuracyUnc = sqrt(p(1−p)/(n−1)); wilsonLow/High = the 95 % Wilson interval
     * llama-perplexity prints; order[k] = file index of the k-th task evaluated; correct[k] = whether it was right.
     */
    public record Result(int tasks, int correct, double accuracy, double accuracyUnc, double wilsonLow, double wilsonHigh,
                         int[] order, boolean[] correctInOrder, double seconds) {
    }

    /** Scores the first {@code limit} tasks of llama-perplexity's random order (limit ≤ 0 or ≥ size: all). */
    public static Result score(LlamaModel model, Function<String, int[]> encode, List<HellaSwagTasks.Task> tasks, int limit, Numerics numerics) {
        long t0 = System.nanoTime();
        // llama-perplexity packs many tasks into one batch, so a task's cache cells start at arbitrary offsets, and ggml's
        // lane of a cell (cell mod lanes, in soft_max's group sums and P·V's chains) is not the lane of its position that a
        // one-sequence forward pass gives. Until that cell layout is emulated, tasks run with llama.cpp's rounding (f16
        // cache, rounded activations) in this project's own order (simdLanes 0), as before the ggml-order port.
        numerics = numerics.withSimdLanes(0);
        int n = limit > 0 ? Math.min(limit, tasks.size()) : tasks.size();
        if (n == 0) throw new IllegalArgumentException("no tasks");
        int[] order = drawOrder(tasks.size(), n);
        int vocab = model.config().vocab();
        boolean[] right = new boolean[n];
        int correct = 0;
        LlamaSession s = null;
        for (int k = 0; k < n; k++) {
            HellaSwagTasks.Task t = tasks.get(order[k]);
            int[][] seq = new int[4][];
            int maxLen = 0;
            for (int e = 0; e < 4; e++) {
                seq[e] = encode.apply(t.context() + " " + t.endings().get(e));
                maxLen = Math.max(maxLen, seq[e].length);
            }
            int prefix = commonPrefix(seq);
            if (prefix == 0) throw new IllegalArgumentException("task " + order[k] + ": the endings share no token (no BOS?)");
            if (s == null || s.maxTokens() < maxLen) {
                s = model.newSession(Math.max(maxLen, 256));
                s.setNumerics(numerics);
            }
            float[] last = s.forward(seq[0], 0, prefix, 0, prefix - 1);
            double[] probs = softmax(last, vocab);
            double best = 0;
            int bestIdx = 0;
            for (int e = 0; e < 4; e++) {
                int len = seq[e].length;
                // ggml's float log of the float probability, kept in double from there on
                double sum = (float) Math.log((float) probs[seq[e][prefix]]);
                int count = 1;
                if (len - prefix > 1) {
                    float[] logits = s.forward(seq[e], prefix, len - prefix - 1, prefix, 0);
                    for (int j = prefix; j < len - 1; j++) {
                        sum += logProb(logits, (j - prefix) * vocab, vocab, seq[e][j + 1]);
                        count++;
                    }
                }
                double score = sum / count;
                if (e == 0 || score > best) {
                    best = score;
                    bestIdx = e;
                }
            }
            right[k] = bestIdx == t.gold();
            if (right[k]) correct++;
        }
        double p = (double) correct / n;
        double unc = n > 1 ? Math.sqrt(p * (1 - p) / (n - 1)) : 0;
        // Wilson score interval at 95 %, as llama-perplexity prints per task
        double za = 1.95996398454, z = za * za / n;
        double cnf = z * Math.sqrt(n * (4.0 * p * (1 - p) + z)) / (za + za);
        double lo = (p + z * 0.5 - cnf) / (1.0 + z), hi = (p + z * 0.5 + cnf) / (1.0 + z);
        return new Result(n, correct, p, unc, lo, hi, order, right, (System.nanoTime() - t0) / 1e9);
    }

    static int commonPrefix(int[][] seq) {
        int p = 0;
        int min = Math.min(Math.min(seq[0].length, seq[1].length), Math.min(seq[2].length, seq[3].length));
        while (p < min && seq[0][p] == seq[1][p] && seq[0][p] == seq[2][p] && seq[0][p] == seq[3][p]) p++;
        return p;
    }

    /** perplexity.cpp's softmax: float exps, double sum, each probability divided in double and stored as float. */
    static double[] softmax(float[] logits, int vocab) {
        float max = logits[0];
        for (int i = 1; i < vocab; i++) max = Math.max(max, logits[i]);
        float[] e = new float[vocab];
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            e[i] = (float) Math.exp(logits[i] - max);
            sum += e[i];
        }
        double[] p = new double[vocab];
        for (int i = 0; i < vocab; i++) p[i] = (float) (e[i] / sum);
        return p;
    }

    /** compute_logprobs: float max, float Σexp, float log. */
    static float logProb(float[] logits, int off, int vocab, int tok) {
        float max = logits[off];
        for (int i = 1; i < vocab; i++) max = Math.max(max, logits[off + i]);
        float sum = 0;
        for (int i = 0; i < vocab; i++) sum += (float) Math.exp(logits[off + i] - max);
        return logits[off + tok] - max - (float) Math.log(sum);
    }

    /** llama-perplexity's task order: n draws from the remaining tasks with std::mt19937(1). */
    static int[] drawOrder(int total, int n) {
        List<Integer> remaining = new ArrayList<>(total);
        for (int i = 0; i < total; i++) remaining.add(i);
        Mt19937 rng = new Mt19937(1);
        int[] order = new int[n];
        for (int k = 0; k < n; k++) order[k] = remaining.remove((int) rng.uniform(remaining.size()));
        return order;
    }

    /** std::mt19937 and libstdc++'s uniform_int_distribution over [0, range) for a 32-bit generator (Lemire's method). */
    static final class Mt19937 {
        private final int[] mt = new int[624];
        private int index;

        Mt19937(int seed) {
            mt[0] = seed;
            for (int i = 1; i < 624; i++) mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
            index = 624;
        }

        long next() {
            if (index >= 624) {
                for (int i = 0; i < 624; i++) {
                    int y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7fffffff);
                    mt[i] = mt[(i + 397) % 624] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
                }
                index = 0;
            }
            int y = mt[index++];
            y ^= y >>> 11;
            y ^= (y << 7) & 0x9d2c5680;
            y ^= (y << 15) & 0xefc60000;
            y ^= y >>> 18;
            return y & 0xFFFFFFFFL;
        }

        /** A value in [0, range), range ≤ 2^32: 64-bit product, rejection below (2^32 − range) mod range. */
        long uniform(long range) {
            long product = next() * range;
            long low = product & 0xFFFFFFFFL;
            if (low < range) {
                long threshold = ((1L << 32) - range) % range;
                while (low < threshold) {
                    product = next() * range;
                    low = product & 0xFFFFFFFFL;
                }
            }
            return product >>> 32;
        }
    }
}
