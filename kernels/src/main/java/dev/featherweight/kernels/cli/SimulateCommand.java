package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.capacity.Capacity;
import dev.featherweight.kernels.capacity.CapacityException;
import dev.featherweight.kernels.capacity.CapacityReport;
import dev.featherweight.kernels.capacity.Gpu;
import dev.featherweight.kernels.capacity.GpuCatalog;
import dev.featherweight.kernels.capacity.KvDType;
import dev.featherweight.kernels.capacity.LengthDistribution;
import dev.featherweight.kernels.capacity.Precision;
import dev.featherweight.kernels.capacity.Roofline;
import dev.featherweight.kernels.capacity.ServingSimulator;
import dev.featherweight.kernels.capacity.SizedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.json.JsonMapper;

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

    @Option(names = "--target-tpot-ms", description = "also find the smallest TP (1, 2, 4, 8) whose p99 time per output token meets this")
    Double targetTpotMs;

    @Option(names = "--json")
    boolean json;

    @Override
    public Integer call() throws IOException {
        if ((rate == null) == (trace == null)) throw new CapacityException("give exactly one of --rate or --trace");
        GpuCatalog cat = GpuCatalog.builtIn();
        Gpu g = cat.get(gpu);
        SizedModel m = SizedModel.resolve(model, weightsDType);
        List<ServingSimulator.Request> requests = trace != null ? ServingSimulator.trace(Files.readAllLines(trace))
                : ServingSimulator.poisson(rate, duration, LengthDistribution.parse(promptLen), LengthDistribution.parse(outputLen), seed);
        ServingSimulator.Result result = simulate(m, g, requests, tp);
        Integer needed = null;
        if (targetTpotMs != null) {
            for (int n : new int[]{1, 2, 4, 8}) {
                try {
                    if (simulate(m, g, requests, n).tpot().p99() * 1e3 <= targetTpotMs) {
                        needed = n;
                        break;
                    }
                } catch (CapacityException tooSmall) {
                    // the model does not fit on n GPUs: try more
                }
            }
        }
        var out = spec.commandLine().getOut();
        if (json) {
            var node = JsonMapper.builder().build().valueToTree(result);
            if (targetTpotMs != null) ((tools.jackson.databind.node.ObjectNode) node).put("gpusForTarget", needed == null ? -1 : needed);
            out.println(node.toString());
        } else {
            out.printf(Locale.ROOT, "%s on %d x %s: %d requests, offered %.2f req/s%n", m.shape().name(), tp, g.name(), result.requests(), result.offeredRate());
            out.printf(Locale.ROOT, "throughput   %.2f req/s, %.0f output tok/s, %.0f total tok/s%n", result.requestsPerSecond(), result.outputTokensPerSecond(), result.totalTokensPerSecond());
            out.printf(Locale.ROOT, "TTFT ms      p50 %.1f  p90 %.1f  p99 %.1f%n", result.ttft().p50() * 1e3, result.ttft().p90() * 1e3, result.ttft().p99() * 1e3);
            out.printf(Locale.ROOT, "TPOT ms      p50 %.2f  p90 %.2f  p99 %.2f%n", result.tpot().p50() * 1e3, result.tpot().p90() * 1e3, result.tpot().p99() * 1e3);
            out.printf(Locale.ROOT, "queue ms     p50 %.1f  p99 %.1f; mean batch %.1f; KV use %.0f%%; preemptions %d%n", result.queueSeconds().p50() * 1e3,
                    result.queueSeconds().p99() * 1e3, result.meanRunningBatch(), result.kvUtilization() * 100, result.preemptions());
            out.printf(Locale.ROOT, "cost         $%.3f per million output tokens%n", result.costPerMillionOutputTokens());
            if (targetTpotMs != null) out.printf(Locale.ROOT, "GPUs for p99 TPOT <= %.1f ms: %s%n", targetTpotMs, needed == null ? "more than 8" : needed);
        }
        return 0;
    }

    private ServingSimulator.Result simulate(SizedModel m, Gpu g, List<ServingSimulator.Request> requests, int n) {
        int maxLen = requests.stream().mapToInt(r -> r.promptTokens() + r.outputTokens()).max().orElse(1);
        int ctx = Math.min(maxLen, m.shape().maxPositions());
        KvDType kv = KvDType.parse(kvDType);
        CapacityReport cap = Capacity.compute(m.shape(), g, m.weightsBytes(), ctx, kv, utilization, Capacity.defaultOverheadBytes(m.shape()), Precision.FP16, n);
        Roofline r = new Roofline(m.shape(), g, m.weightsBytes(), kv, Precision.FP16, n);
        return new ServingSimulator(r, cap.kvBlocks(), maxBatch).run(requests);
    }
}
