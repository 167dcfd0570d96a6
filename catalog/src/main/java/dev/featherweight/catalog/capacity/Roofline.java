package dev.featherweight.catalog.capacity;

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
     * One scheduler step of continuous batching: {@code decodes} sequences each compute one token attending
     * to their context (together {@code decodeContext} positions), plus prefill chunks totalling
     * {@code prefillTokens} tokens whose causal attention covers {@code prefillPairs} (query, key) pairs
     * and which read or write {@code prefillKvTokens} positions of cache.
     * FLOPs = 2 × matmul params × tokens + 4 × layers × qDim × attended positions (QKᵀ and AV);
     * bytes = streamed weights (once per step, whatever the batch) + KV bytes of every position read or written.
     * Plus, under tensor parallelism, two all-reduces per layer of tokens × hidden fp16 activations.
     */
    public double stepSeconds(int decodes, long decodeContext, long prefillTokens, double prefillPairs, long prefillKvTokens) {
        long tokens = decodes + prefillTokens;
        if (tokens == 0) return 0;
        double flops = 2.0 * shape.matmulParams() * tokens + 4.0 * shape.layers() * shape.qDim() * (decodeContext + prefillPairs);
        double bytes = streamedWeightBytes + shape.kvBytesPerToken(kvDType) * (double) (decodeContext + prefillKvTokens);
        return Math.max(computeSeconds(flops), memorySeconds(bytes)) + allReduceSeconds(tokens);
    }

    /** One decode step for a batch whose sequences attend to {@code totalContext} positions in all (each to its own context). */
    public double decodeStepSeconds(int batch, long totalContext) {
        return stepSeconds(batch, totalContext, 0, 0, 0);
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

    /** Prefill of one prompt in one step: token i attends to i + 1 positions. */
    public double prefillSeconds(int promptTokens) {
        return stepSeconds(0, 0, promptTokens, promptTokens * (promptTokens + 1.0) / 2, promptTokens);
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

    /**
     * B* with the KV cache counted: every sequence at {@code context} adds kvBytesPerToken × context bytes
     * and 4 × layers × qDim × context attention FLOPs per step. Solving
     * (W + B·kv·c) / bandwidth = B·(2·M + 4·L·q·c) / peak gives B = (W / bw) / ((2M + 4Lqc) / peak − kv·c / bw);
     * when the denominator is not positive no batch is compute-bound (attention at that context moves more
     * bytes per FLOP than the GPU's ridge point) and the result is +∞.
     */
    public double optimalBatchAt(int context) {
        double perSeqCompute = (2.0 * shape.matmulParams() + 4.0 * shape.layers() * shape.qDim() * (double) context) / peak();
        double perSeqMemory = shape.kvBytesPerToken(kvDType) * context / gpu.bandwidthBps();
        double denominator = perSeqCompute - perSeqMemory;
        return denominator <= 0 ? Double.POSITIVE_INFINITY : streamedWeightBytes / gpu.bandwidthBps() / denominator;
    }
}
