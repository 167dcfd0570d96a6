package dev.featherweight.catalog.capacity;

/**
 * How a model fits and runs on a GPU at a context length. Bytes are exact integers; "GB" in messages
 * means 1e9 bytes as GPU vendors count.
 *
 * @param usableBytes          GPU memory × utilization (the share the serving engine may take, as vLLM's gpu_memory_utilization)
 * @param kvBudgetBytes        usable − weights − overhead: what remains for the KV cache
 * @param maxSequences         sequences of the full context that fit, each preallocated at full length (the seed's mode)
 * @param maxSequencesPaged    the same with paged allocation: blocks of 16 tokens, so only the last block of a sequence is partly empty
 * @param kvBlocks             16-token KV blocks that fit in the budget
 * @param overheadBytes        activation/workspace reserve of the whole group (per GPU × tensorParallel)
 * @param optimalBatch         B*: batch where weight streaming and matmul arithmetic take equal time (KV traffic aside, the classic figure)
 * @param optimalBatchAtContext B* counting every sequence's KV reads and attention FLOPs at this context; null when no batch
 *                             becomes compute-bound (attention reads more bytes per FLOP than the GPU's ridge point)
 * @param decodeBatch          the batch the throughput figures use: min(maxSequences, ⌈B*⌉), at least 1
 * @param decodeTokensPerSecond total output tokens/s at decodeBatch with every sequence at the full context
 * @param perSequenceTokensPerSecond tokens/s each of those sequences sees
 * @param singleSequenceTokensPerSecond tokens/s of one sequence alone
 */
public record CapacityReport(String model, String gpu, int context, String kvDType, long weightsBytes, long overheadBytes,
                             long usableBytes, long kvBudgetBytes, double kvBytesPerToken, long kvBytesPerSequence,
                             long maxTokens, long maxSequences, long maxSequencesPaged, long kvBlocks, double optimalBatch,
                             Double optimalBatchAtContext,
                             int decodeBatch, double decodeStepSeconds, double decodeTokensPerSecond,
                             double perSequenceTokensPerSecond, double singleSequenceTokensPerSecond, boolean memoryBound,
                             double prefillSeconds, int tensorParallel) {
}
