package dev.featherweight.catalog.capacity;

import java.util.ArrayList;
import java.util.List;

/**
 * A model served on some number of one GPU type: builds the roofline and the KV block pool for a
 * tensor-parallel degree, runs the serving simulation, and finds the smallest degree that meets a
 * latency target.
 *
 * @param overheadBytes    activation/workspace reserve per GPU ({@link Capacity#defaultOverheadBytes})
 * @param maxBatch         vLLM's max_num_seqs
 * @param maxBatchedTokens vLLM's max_num_batched_tokens (step token budget, decodes + prefill chunks)
 */
public record ServingPlan(ModelShape shape, long weightsBytes, Gpu gpu, KvDType kv, double utilization, long overheadBytes,
                          Precision precision, int maxBatch, int maxBatchedTokens) {

    /** vLLM's defaults: 0.9 utilization, 256 sequences, 2048 tokens per step; fp16 KV and arithmetic. */
    public static ServingPlan of(ModelShape shape, long weightsBytes, Gpu gpu) {
        return new ServingPlan(shape, weightsBytes, gpu, KvDType.FP16, Capacity.DEFAULT_UTILIZATION,
                Capacity.defaultOverheadBytes(shape), Precision.FP16, 256, Capacity.PROFILE_TOKENS);
    }

    /** Sizes the KV pool on {@code tensorParallel} GPUs (failing with the numbers when the longest request does not fit) and simulates. */
    public ServingSimulator.Result simulate(int tensorParallel, List<ServingSimulator.Request> requests) {
        int longest = requests.stream().mapToInt(r -> r.promptTokens() + r.outputTokens()).max().orElse(1);
        if (longest > shape.maxPositions()) {
            throw new CapacityException("a request of " + longest + " tokens exceeds the model's max positions " + shape.maxPositions());
        }
        CapacityReport cap = Capacity.compute(shape, gpu, weightsBytes, longest, kv, utilization, overheadBytes, precision, tensorParallel);
        Roofline r = new Roofline(shape, gpu, weightsBytes, kv, precision, tensorParallel);
        return new ServingSimulator(r, cap.kvBlocks(), maxBatch, maxBatchedTokens).run(requests);
    }

    /** A latency target: p99 time per output token and/or p99 time to first token, seconds (null = no bound). */
    public record LatencyTarget(Double p99TpotSeconds, Double p99TtftSeconds) {
        public boolean metBy(ServingSimulator.Result r) {
            return (p99TpotSeconds == null || r.tpot().p99() <= p99TpotSeconds) && (p99TtftSeconds == null || r.ttft().p99() <= p99TtftSeconds);
        }
    }

    /** One tried degree: its result, or why it could not run (model does not fit, heads do not split). */
    public record Trial(int gpus, ServingSimulator.Result result, String failure) {
    }

    /** The search: every degree tried, and the smallest that met the target (null when none up to the limit did). */
    public record Search(Integer gpus, List<Trial> trials) {
    }

    /** Tries N = 1, 2, 4, … up to {@code maxGpus}, in order, and stops at the first that meets the target. */
    public Search smallestTensorParallel(List<ServingSimulator.Request> requests, LatencyTarget target, int maxGpus) {
        List<Trial> trials = new ArrayList<>();
        for (int n = 1; n <= maxGpus; n *= 2) {
            try {
                ServingSimulator.Result r = simulate(n, requests);
                trials.add(new Trial(n, r, null));
                if (target.metBy(r)) return new Search(n, trials);
            } catch (CapacityException e) {
                trials.add(new Trial(n, null, e.getMessage()));
            }
        }
        return new Search(null, trials);
    }
}
