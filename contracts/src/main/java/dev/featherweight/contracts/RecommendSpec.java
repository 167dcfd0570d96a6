package dev.featherweight.contracts;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.featherweight.catalog.capacity.CapacityException;
import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.catalog.capacity.LengthDistribution;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.recommend.Recommendation;

import java.util.List;
import java.util.Map;

/**
 * The question a recommend job answers, as its {@link JobSpec} carries it: the GPUs (with tensor parallel counts), the
 * context, the workload, the quality budget, the model's shape (so the answer is a function of the job alone) and the
 * candidates the gateway pruned with the capacity model before queueing anything. The surviving candidates are the job's
 * recipes, quantized and evaluated like any sweep; {@link Recommendation#decide} turns their measured numbers into the
 * Pareto front and the recommendation.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RecommendSpec(List<GpuCount> gpus, int ctx, Workload workload, Quality quality, ModelShape shape, List<Pruned> pruned) {

    public static final int MAX_GPUS = 8;

    /** A GPU of the catalogue; {@code count} GPUs serve one replica with tensor parallel (default 1). */
    public record GpuCount(String name, Integer count) {
        public int countOr1() {
            return count == null ? 1 : count;
        }
    }

    /**
     * Either {@code concurrency} (sequences of ctx tokens to hold at once) or {@code requestsPerSecond} with the prompt and
     * output length distributions of the serving simulation ("fixed:N", "uniform:A:B", "normal:M:SD", "lognormal:MU:SIGMA";
     * defaults fixed:256 / fixed:128), its duration (60 s) and seed (1).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Workload(Integer concurrency, Double requestsPerSecond, String promptLen, String outputLen, Double durationSeconds, Long seed) {
        public Recommendation.Workload resolve(int ctx) {
            if (requestsPerSecond == null) return new Recommendation.Workload(ctx, concurrency);
            return new Recommendation.Workload(ctx, 0, new Recommendation.RequestRate(requestsPerSecond, promptLen == null ? "fixed:256" : promptLen,
                    outputLen == null ? "fixed:128" : outputLen, durationSeconds == null ? 60 : durationSeconds, seed == null ? 1 : seed));
        }
    }

    /** Exactly one budget: mean KL divergence at most, perplexity increase at most, or share of same top tokens at least. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Quality(Double maxKld, Double maxDeltaPpl, Double minSameTopP) {
        /** The loss the budget bounds, as the reasons name it. */
        @JsonIgnore
        public String metric() {
            return maxKld != null ? "KLD" : maxDeltaPpl != null ? "Δppl" : "1-same-top-p";
        }

        @JsonIgnore
        public double maxLoss() {
            return maxKld != null ? maxKld : maxDeltaPpl != null ? maxDeltaPpl : 1 - minSameTopP;
        }

        /** The loss from an eval task's metrics (the eval-worker's keys), or null when the metric is missing. */
        public Double loss(Map<String, Double> metrics) {
            if (metrics == null) return null;
            if (maxKld != null) return metrics.get("kld_mean");
            if (maxDeltaPpl != null) return metrics.get("perplexity_delta");
            Double same = metrics.get("same_top_p");
            return same == null ? null : 1 - same;
        }
    }

    public record Pruned(String candidate, long estimatedBytes, String reason) {}

    public List<Recommendation.GpuTarget> targets(GpuCatalog catalog) {
        return gpus.stream().map(g -> new Recommendation.GpuTarget(catalog.get(g.name()), g.countOr1())).toList();
    }

    /** Every problem, each naming its JSON path; {@code catalog} judges the GPU names. */
    public void validate(String path, GpuCatalog catalog, List<String> errors) {
        if (gpus == null || gpus.isEmpty() || gpus.size() > MAX_GPUS) errors.add(path + "gpus: 1 to " + MAX_GPUS + " GPUs of the catalogue");
        else for (int i = 0; i < gpus.size(); i++) {
            GpuCount g = gpus.get(i);
            String at = path + "gpus[" + i + "]";
            if (g == null || g.name() == null || !catalog.names().contains(g.name()))
                errors.add(at + ".name: " + (g == null || g.name() == null ? "required" : "'" + g.name() + "' is not in the GPU catalog") + "; one of " + catalog.names());
            if (g != null && g.count() != null) Checks.range(errors, at + ".count", g.count(), 1, 64);
        }
        Checks.range(errors, path + "ctx", ctx, 1, 1 << 21);
        if (workload == null || (workload.concurrency() == null) == (workload.requestsPerSecond() == null))
            errors.add(path + "workload: exactly one of concurrency or requestsPerSecond");
        else if (workload.concurrency() != null) Checks.range(errors, path + "workload.concurrency", workload.concurrency(), 1, 100_000_000);
        else {
            double rate = workload.requestsPerSecond(), duration = workload.durationSeconds() == null ? 60 : workload.durationSeconds();
            if (!(rate > 0 && rate <= 10_000)) errors.add(path + "workload.requestsPerSecond: " + rate + " is outside (0, 10000]");
            if (!(duration > 0 && duration <= 3600)) errors.add(path + "workload.durationSeconds: " + duration + " is outside (0, 3600]");
            else if (rate * duration > 200_000) errors.add(path + "workload: " + (long) (rate * duration) + " simulated requests, at most 200000 (rate × duration)");
            length(errors, path + "workload.promptLen", workload.promptLen());
            length(errors, path + "workload.outputLen", workload.outputLen());
        }
        if (quality == null || java.util.stream.Stream.of(quality.maxKld(), quality.maxDeltaPpl(), quality.minSameTopP()).filter(java.util.Objects::nonNull).count() != 1)
            errors.add(path + "quality: exactly one of maxKld, maxDeltaPpl or minSameTopP");
        else if (quality.maxKld() != null && !(quality.maxKld() >= 0)) errors.add(path + "quality.maxKld: must be ≥ 0, got " + quality.maxKld());
        else if (quality.maxDeltaPpl() != null && !Double.isFinite(quality.maxDeltaPpl())) errors.add(path + "quality.maxDeltaPpl: must be a number");
        else if (quality.minSameTopP() != null && !(quality.minSameTopP() >= 0 && quality.minSameTopP() <= 1))
            errors.add(path + "quality.minSameTopP: must be in [0, 1], got " + quality.minSameTopP());
    }

    private static void length(List<String> errors, String field, String spec) {
        if (spec == null) return;
        try {
            LengthDistribution.parse(spec);
        } catch (CapacityException | IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
            errors.add(field + ": '" + spec + "' is not fixed:N, uniform:A:B, normal:M:SD or lognormal:MU:SIGMA");
        }
    }
}
