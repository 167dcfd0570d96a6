package dev.featherweight.eval;

import java.nio.file.Path;
import java.util.List;

/** The port through which the eval-worker runs the kernels: perplexity and the capacity table. */
public interface EvaluationEngine {

    /** Perplexity, llama.cpp-style (ctx tokens per chunk, second half of each chunk scored), of a model folder or a GGUF file in a folder. */
    double perplexity(Path model, Path text, int ctx, int chunks) throws Exception;

    boolean supportsPerplexity(Path model);

    record CapacityRow(String gpu, long deviceBytes, long weightBytes, long kvBytesPerToken, long maxTokens, long maxSequences) {}

    /** For each GPU: how many tokens of KV cache and how many sequences of {@code ctx} fit beside the weights. */
    List<CapacityRow> capacity(Path sourceModel, long weightBytes, List<String> gpus, int ctx, String kvDtype) throws Exception;

    String version();
}
