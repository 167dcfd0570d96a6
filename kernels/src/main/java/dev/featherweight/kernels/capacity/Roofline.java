package dev.featherweight.kernels.capacity;

/**
 * The roofline time model of one model on one GPU (or N GPUs in tensor parallel): a step takes the
 * longer of its arithmetic at peak rate and its memory traffic at full bandwidth. Decode streams every
 * weight once per step whatever the batch, and every sequence's KV cache; that is why small batches are
 * memory-bound and why quantized weights (fewer bytes) raise the throughput of a memory-bound GPU.
 *
 * <p>Tensor parallel over N GPUs splits weights, KV and FLOPs N ways and adds two ring all-reduces per
 * layer (after attention and after the MLP) of batch × hidden fp16 activations:
 * 2(N−1)/N × bytes over the interconnect plus a fixed launch latency.
 */
public final class Roofline {
    /** Latency of one all-reduce launch (NCCL on NVLink/PCIe is in the 5–20 µs range). */
    public static final double ALL_REDUCE_LATENCY_S = 8e-6;

    private final ModelShape shape;
    private final Gpu gpu;
    private final long weightsBytes;
    /** Bytes a decode step streams: every matmul weight, i.e. all weights but an untied input embedding (a row lookup). */
    private final double streamedWeightBytes;
    private final KvDType kvDType;
    private final Precision precision;
    private final int tensorParallel;

    public Roofline(ModelShape shape, Gpu gpu, long weightsBytes, KvDType kvDType, Precision precision, int tensorParallel) {
        if (tensorParallel < 1) throw new CapacityException("tensor parallel must be ≥ 1, got " + tensorParallel);
        this.shape = shape;
        this.gpu = gpu;
        this.weightsBytes = weightsBytes;
        this.streamedWeightBytes = (double) weightsBytes * shape.matmulParams() / shape.params();
        this.kvDType = kvDType;
        this.precision = precision;
        this.tensorParallel = tensorParallel;
    }

    public ModelShape shape() {
        return shape;
    }

    public Gpu gpu() {
        return gpu;
    }

    public long weightsBytes() {
        return weightsBytes;
    }

    public int tensorParallel() {
        return tensorParallel;
    }

    public double peak() {
        return gpu.peak(precision);
    }

    /** Seconds of compute for these FLOPs spread over the TP group. */
    public double computeSeconds(double flops) {
        return flops / tensorParallel / peak();
    }

    /** Seconds of memory traffic for these bytes spread over the TP group. */
    public double memorySeconds(double bytes) {
        return bytes / tensorParallel / gpu.bandwidthBps();
    }

    private double allReduceSeconds(long tokens) {
        if (tensorParallel == 1) return 0;
        double bytes = (double) tokens * shape.hidden() * 2;
        double one = 2.0 * (tensorParallel - 1) / tensorParallel * bytes / gpu.interconnectBps() + ALL_REDUCE_LATENCY_S;
        return 2.0 * shape.layers() * one;
    }

    /**
     * One decode step for a batch whose sequences hold {@code totalContext} tokens in all (each attends
     * to its own context): FLOPs = B × 2 × matmul params + 4 × layers × qDim × totalContext;
     * bytes = weights + KV of every sequence.
     */
    public double decodeStepSeconds(int batch, long totalContext) {
        if (batch == 0) return 0;
        double flops = 2.0 * shape.matmulParams() * batch + 4.0 * shape.layers() * shape.qDim() * (double) totalContext;
        double bytes = streamedWeightBytes + shape.kvBytesPerToken(kvDType) * totalContext;
        return Math.max(computeSeconds(flops), memorySeconds(bytes)) + allReduceSeconds(batch);
    }

    /** Decode step where all B sequences are at the same context. */
    public double decodeStepSeconds(int batch, int contextPerSequence) {
        return decodeStepSeconds(batch, (long) batch * contextPerSequence);
    }

    /** True when a decode step at this batch and context spends longer moving bytes than computing. */
    public boolean memoryBound(int batch, int contextPerSequence) {
        double flops = 2.0 * shape.matmulParams() * batch + 4.0 * shape.layers() * shape.qDim() * (double) batch * contextPerSequence;
        double bytes = streamedWeightBytes + shape.kvBytesPerToken(kvDType) * batch * (double) contextPerSequence;
        return memorySeconds(bytes) >= computeSeconds(flops);
    }

    /** Prefill of prompts totalling {@code tokens} tokens (causal attention: each token sees its prefix). */
    public double prefillSeconds(long tokens, long sumOfSquaredPromptLengths) {
        if (tokens == 0) return 0;
        double flops = 2.0 * shape.matmulParams() * tokens + 2.0 * shape.layers() * shape.qDim() * (double) sumOfSquaredPromptLengths;
        double bytes = streamedWeightBytes + shape.kvBytesPerToken(kvDType) * tokens;
        return Math.max(computeSeconds(flops), memorySeconds(bytes)) + allReduceSeconds(tokens);
    }

    public double prefillSeconds(int promptTokens) {
        return prefillSeconds(promptTokens, (long) promptTokens * promptTokens);
    }

    /**
     * The batch at which streaming the weights takes as long as the matmul arithmetic:
     * streamed bytes / bandwidth = B × 2 × matmul params / peak, so
     * B* = peak × bytes per weight / (2 × bandwidth). For fp16 weights (2 bytes per weight) that is
     * peak / bandwidth — about 200 on an A100, twice the seed's "peak ÷ (2 × bandwidth)", which counts one
     * byte per weight (it holds for int8 weights). Every halving of bytes per weight halves B*.
     * Attention/KV traffic is left out, as in the classic derivation.
     */
    public double optimalBatch() {
        return peak() * streamedWeightBytes / (2.0 * shape.matmulParams() * gpu.bandwidthBps());
    }
}
