package dev.featherweight.catalog.capacity;

import java.util.Locale;

/**
 * Sizes a model on a GPU: weights, KV cache per token and per sequence, how many sequences fit, the
 * optimal batch and the decode throughput the roofline allows.
 */
public final class Capacity {
    public static final int PAGE_TOKENS = 16;
    public static final double DEFAULT_UTILIZATION = 0.9;
    /** CUDA context, cuBLAS/attention workspaces and allocator slack that no model-size formula captures. */
    public static final long RUNTIME_RESERVE_BYTES = 512L << 20;
    /** Tokens one scheduler step may process in vLLM's profiling run (max_num_batched_tokens default). */
    public static final int PROFILE_TOKENS = 2048;

    private Capacity() {
    }

    /**
     * The default activation/workspace overhead, modelled on vLLM's profiling run: the peak activations
     * of one step over {@value #PROFILE_TOKENS} tokens in fp16 — the residual stream, q/k/v/o outputs and
     * the two MLP intermediates, (4 × hidden + 2 × ffn) × 2 bytes per token — plus fp32 logits for 256
     * sequences, plus {@link #RUNTIME_RESERVE_BYTES}.
     */
    public static long defaultOverheadBytes(ModelShape s) {
        long act = (long) PROFILE_TOKENS * (4L * s.hidden() + 2L * s.ffn()) * 2;
        long logits = 256L * s.vocab() * 4;
        return act + logits + RUNTIME_RESERVE_BYTES;
    }

    public static CapacityReport compute(ModelShape shape, Gpu gpu, long weightsBytes, int context, KvDType kv,
                                         double utilization, long overheadBytes, Precision precision, int tensorParallel) {
        if (context <= 0) throw new CapacityException("context must be positive, got " + context);
        if (context > shape.maxPositions()) {
            throw new CapacityException("context " + context + " exceeds the model's max positions " + shape.maxPositions());
        }
        if (utilization <= 0 || utilization > 1) throw new CapacityException("utilization must be in (0, 1], got " + utilization);
        if (tensorParallel < 1) throw new CapacityException("tensor parallel must be ≥ 1, got " + tensorParallel);
        if (shape.heads() % tensorParallel != 0 || shape.kvHeads() % tensorParallel != 0 && tensorParallel % shape.kvHeads() != 0) {
            throw new CapacityException(shape.name() + ": " + shape.heads() + " attention heads / " + shape.kvHeads()
                    + " KV heads cannot be split over " + tensorParallel + " GPUs");
        }
        // Each GPU of a tensor-parallel group holds 1/N of the weights and of the KV cache but its own workspace.
        long usable = (long) Math.floor(gpu.memoryBytes() * utilization) * tensorParallel;
        double kvPerToken = shape.kvBytesPerToken(kv);
        long kvPerSequence = (long) Math.ceil(kvPerToken * context);
        long overheadTotal = overheadBytes * tensorParallel;
        long budget = usable - weightsBytes - overheadTotal;
        String tp = tensorParallel > 1 ? " (" + tensorParallel + " GPUs)" : "";
        if (budget <= 0) {
            throw new CapacityException(String.format(Locale.ROOT, "weights %.1f GB + overhead %.1f GB exceed %.1f GB usable on %s%s",
                    weightsBytes / 1e9, overheadTotal / 1e9, usable / 1e9, gpu.name(), tp));
        }
        if (budget < kvPerSequence) {
            throw new CapacityException(String.format(Locale.ROOT,
                    "weights %.1f GB + overhead %.1f GB + one %d-token sequence's KV cache %.2f GB exceed %.1f GB usable on %s%s",
                    weightsBytes / 1e9, overheadTotal / 1e9, context, kvPerSequence / 1e9, usable / 1e9, gpu.name(), tp));
        }
        long maxTokens = (long) Math.floor(budget / kvPerToken);
        long maxSeq = budget / kvPerSequence;
        long blockBytes = (long) Math.ceil(kvPerToken * PAGE_TOKENS);
        long blocks = budget / blockBytes;
        long blocksPerSeq = (context + PAGE_TOKENS - 1) / PAGE_TOKENS;
        long maxSeqPaged = blocks / blocksPerSeq;
        Roofline r = new Roofline(shape, gpu, weightsBytes, kv, precision, tensorParallel);
        double bStar = r.optimalBatch();
        double bStarCtx = r.optimalBatchAt(context);
        int batch = (int) Math.max(1, Math.min(maxSeqPaged, (long) Math.ceil(bStar)));
        double step = r.decodeStepSeconds(batch, context);
        double single = 1.0 / r.decodeStepSeconds(1, context);
        return new CapacityReport(shape.name(), gpu.name(), context, kv.name().toLowerCase(Locale.ROOT), weightsBytes, overheadTotal,
                usable, budget, kvPerToken, kvPerSequence, maxTokens, maxSeq, maxSeqPaged, blocks, bStar,
                Double.isFinite(bStarCtx) ? bStarCtx : null, batch, step,
                batch / step, 1.0 / step, single, r.memoryBound(batch, context), r.prefillSeconds(context), tensorParallel);
    }
}
