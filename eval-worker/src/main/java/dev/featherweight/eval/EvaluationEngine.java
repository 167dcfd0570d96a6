package dev.featherweight.eval;

import dev.featherweight.catalog.capacity.Precision;

import java.nio.file.Path;
import java.util.List;

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

    String version();
}
