package dev.featherweight.eval;

import dev.featherweight.catalog.capacity.Precision;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The port through which the eval-worker runs the kernels: perplexity and the capacity table. */
public interface EvaluationEngine {

    /**
     * Perplexity, llama.cpp-style (ctx tokens per chunk, second half of each chunk scored, at most
     * {@code chunks} chunks, all when ≤ 0), of a model folder or a GGUF file; the text is tokenized with the
     * tokenizer in {@code tokenizerDir}.
     */
    double perplexity(Path model, Path tokenizerDir, Path text, int ctx, int chunks) throws Exception;

    record CapacityRow(String gpu, long deviceBytes, long weightBytes, double kvBytesPerToken, long maxTokens, long maxSequences,
                       long maxSequencesPaged, double optimalBatch, double decodeTokensPerSecond, String note) {}

    /**
     * For each GPU: how many tokens of KV cache and how many sequences of {@code ctx} fit beside the weights; the roofline's
     * compute peak is the GPU's at {@code precision} (FP16 for weight-only artifacts, INT8/FP8 for W8A8 ones).
     */
    List<CapacityRow> capacity(Path sourceModel, long weightBytes, List<String> gpus, int ctx, String kvDtype, Precision precision) throws Exception;

    /**
     * Runs the base model over the text (llama.cpp protocol) and writes its log-probs to {@code out} in llama.cpp's
     * --kl-divergence-base format.
     */
    void kldBase(Path baseModel, Path tokenizerDir, Path text, int ctx, int chunks, Path out) throws Exception;

    /**
     * KL divergence of a model against a base logits file: metrics kld_mean, kld_median, kld_p99, kld_max, same_top_p,
     * delta_p_rms (fractions), ppl and ppl_unc (the model's perplexity on the file's tokens and its ±).
     */
    Map<String, Double> kld(Path model, Path tokenizerDir, Path baseLogits) throws Exception;

    /** Multiple-choice accuracy (HellaSwag format, llama-perplexity's acc_norm): metrics mc_accuracy, mc_accuracy_unc, mc_tasks. */
    Map<String, Double> multipleChoice(Path model, Path tokenizerDir, Path tasks, int limit) throws Exception;

    String version();
}
