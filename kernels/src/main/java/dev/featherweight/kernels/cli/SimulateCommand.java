package dev.featherweight.kernels.cli;

import dev.featherweight.catalog.capacity.Capacity;
import dev.featherweight.catalog.capacity.CapacityException;
import dev.featherweight.catalog.capacity.Gpu;
import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.catalog.capacity.KvDType;
import dev.featherweight.catalog.capacity.LengthDistribution;
import dev.featherweight.catalog.capacity.Precision;
import dev.featherweight.catalog.capacity.ServingPlan;
import dev.featherweight.catalog.capacity.ServingSimulator;
import dev.featherweight.kernels.capacity.SizedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code fw simulate}: continuous-batching serving under load on the roofline. */
@Command(name = "simulate", mixinStandardHelpOptions = true,
        description = "Simulate serving (continuous batching, paged KV) and report throughput, TTFT/TPOT percentiles, KV use and cost.")
public final class SimulateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "model folder, .gguf, config.json or shape name")
    String model;

    @Option(names = "--gpu", required = true, description = "GPU name from the catalog")
    String gpu;

    @Option(names = "--rate", description = "Poisson arrival rate, requests/s")
    Double rate;

    @Option(names = "--trace", description = "CSV trace: arrival_seconds,prompt_tokens,output_tokens")
    Path trace;

    @Option(names = "--prompt-len", defaultValue = "fixed:512", description = "fixed:N, uniform:A:B, normal:M:SD, lognormal:MU:SIGMA (default ${DEFAULT-VALUE})")
    String promptLen;

    @Option(names = "--output-len", defaultValue = "fixed:128", description = "as --prompt-len (default ${DEFAULT-VALUE})")
    String outputLen;

    @Option(names = "--duration", defaultValue = "60", description = "seconds of arrivals (default ${DEFAULT-VALUE})")
    double duration;

    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Option(names = "--tp", defaultValue = "1", description = "tensor-parallel GPUs")
    int tp;

    @Option(names = "--kv-dtype", defaultValue = "fp16")
    String kvDType;

    @Option(names = "--weights-dtype", description = "nominal weights precision instead of the artifact's bytes")
    String weightsDType;

    @Option(names = "--utilization", defaultValue = "0.9")
    double utilization;

    @Option(names = "--max-batch", defaultValue = "256", description = "max running sequences (vLLM max_num_seqs)")
    int maxBatch;

    @Option(names = "--max-batched-tokens", defaultValue = "2048", description = "tokens per step, decodes plus prefill chunks (vLLM max_num_batched_tokens)")
    int maxBatchedTokens;

    @Option(names = "--overhead", description = "activation/workspace bytes per GPU (default: vLLM-style profile estimate)")
    Long overhead;

    @Option(names = "--precision", defaultValue = "FP16", description = "matmul arithmetic: FP16 (weight-only quantization), INT8 or FP8 (W8A8)")
    Precision precision;

    @Option(names = "--catalog", description = "extra GPU catalog JSON (adds or overrides entries)")
    Path catalog;

    @Option(names = "--target-tpot-ms", description = "find the smallest tensor-parallel N (1, 2, 4, 8) whose p99 time per output token meets this")
    Double targetTpotMs;

    @Option(names = "--target-ttft-ms", description = "… and/or whose p99 time to first token meets this")
    Double targetTtftMs;

    @Option(names = "--json")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if ((rate == null) == (trace == null)) throw new CapacityException("give exactly one of --rate or --trace");
        GpuCatalog cat = GpuCatalog.builtIn();
        if (catalog != null) cat.extend(catalog);
        Gpu g = cat.get(gpu);
        SizedModel m = SizedModel.resolve(model, weightsDType);
        List<ServingSimulator.Request> requests = trace != null ? ServingSimulator.trace(Files.readAllLines(trace))
                : ServingSimulator.poisson(rate, duration, LengthDistribution.parse(promptLen), LengthDistribution.parse(outputLen), seed);
        if (requests.isEmpty()) throw new CapacityException("no requests: raise --rate or --duration");
        ServingPlan plan = new ServingPlan(m.shape(), m.weightsBytes(), g, KvDType.parse(kvDType), utilization,
                overhead != null ? overhead : Capacity.defaultOverheadBytes(m.shape()), precision, maxBatch, maxBatchedTokens);
        ServingSimulator.Result result = plan.simulate(tp, requests);
        ServingPlan.Search search = null;
        if (targetTpotMs != null || targetTtftMs != null) {
            search = plan.smallestTensorParallel(requests, new ServingPlan.LatencyTarget(
                    targetTpotMs == null ? null : targetTpotMs / 1e3, targetTtftMs == null ? null : targetTtftMs / 1e3), 8);
        }
        var out = spec.commandLine().getOut();
        if (json) {
            var node = (ObjectNode) JsonMapper.builder().build().valueToTree(result);
            node.put("model", m.shape().name());
            node.put("gpu", g.name());
            node.put("weightsBytes", m.weightsBytes());
            if (search != null) {
                if (search.gpus() == null) node.putNull("gpusForTarget");
                else node.put("gpusForTarget", search.gpus());
            }
            out.println(node.toString());
        } else {
            out.printf(Locale.ROOT, "%s on %d x %s: %d requests, offered %.2f req/s, weights %.2f GB (%s)%n", m.shape().name(), tp, g.name(),
                    result.requests(), result.offeredRate(), m.weightsBytes() / 1e9, m.source());
            out.printf(Locale.ROOT, "throughput   %.2f req/s, %.0f output tok/s, %.0f total tok/s%n", result.requestsPerSecond(), result.outputTokensPerSecond(), result.totalTokensPerSecond());
            out.printf(Locale.ROOT, "TTFT ms      p50 %.1f  p90 %.1f  p99 %.1f%n", result.ttft().p50() * 1e3, result.ttft().p90() * 1e3, result.ttft().p99() * 1e3);
            out.printf(Locale.ROOT, "TPOT ms      p50 %.2f  p90 %.2f  p99 %.2f%n", result.tpot().p50() * 1e3, result.tpot().p90() * 1e3, result.tpot().p99() * 1e3);
            out.printf(Locale.ROOT, "queue ms     p50 %.1f  p90 %.1f  p99 %.1f%n", result.queueSeconds().p50() * 1e3, result.queueSeconds().p90() * 1e3, result.queueSeconds().p99() * 1e3);
            out.printf(Locale.ROOT, "batch        mean %.1f running; KV use %.0f%%; preemptions %d; mean in system %.1f%n", result.meanRunningBatch(),
                    result.kvUtilization() * 100, result.preemptions(), result.meanInSystem());
            out.printf(Locale.ROOT, "cost         $%.3f per million output tokens (%d x $%.2f/h)%n", result.costPerMillionOutputTokens(), tp, g.hourlyUsd());
            if (search != null) {
                for (ServingPlan.Trial t : search.trials()) {
                    if (t.result() == null) out.printf(Locale.ROOT, "tp %d: %s%n", t.gpus(), t.failure());
                    else out.printf(Locale.ROOT, "tp %d: p99 TTFT %.1f ms, p99 TPOT %.2f ms%n", t.gpus(), t.result().ttft().p99() * 1e3, t.result().tpot().p99() * 1e3);
                }
                out.printf(Locale.ROOT, "GPUs for the target: %s%n", search.gpus() == null ? "more than 8" : search.gpus());
            }
        }
        return 0;
    }
}
