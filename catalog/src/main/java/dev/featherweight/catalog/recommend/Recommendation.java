package dev.featherweight.catalog.recommend;

import dev.featherweight.catalog.capacity.Capacity;
import dev.featherweight.catalog.capacity.CapacityException;
import dev.featherweight.catalog.capacity.CapacityReport;
import dev.featherweight.catalog.capacity.Gpu;
import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.catalog.capacity.KvDType;
import dev.featherweight.catalog.capacity.LengthDistribution;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.capacity.Precision;
import dev.featherweight.catalog.capacity.ServingPlan;
import dev.featherweight.catalog.capacity.ServingSimulator;
import dev.featherweight.catalog.capacity.WeightsDType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The arithmetic of "which quantization should we ship on this GPU?", without the engine: sizing a candidate with the
 * capacity model (or the serving simulation for a request rate), pruning the ones that cannot hold the workload on any of
 * the GPUs before any compute, and — once the survivors are measured — the Pareto front (bytes, quality loss), the
 * recommendation and its reasons in words. {@code fw recommend} (kernels) and the platform's recommend jobs (gateway)
 * both decide with this class, so a recommendation reads the same wherever it was made.
 */
public final class Recommendation {
    private Recommendation() {
    }

    /** A GPU of the catalogue and how many of them serve one replica (tensor parallel). */
    public record GpuTarget(Gpu gpu, int count) {
        /** "L4" or "L4:2". */
        public static GpuTarget parse(String spec, GpuCatalog catalog) {
            int colon = spec.indexOf(':');
            if (colon < 0) return new GpuTarget(catalog.get(spec), 1);
            int count = Integer.parseInt(spec.substring(colon + 1));
            if (count < 1) throw new IllegalArgumentException("GPU count must be ≥ 1 in '" + spec + "'");
            return new GpuTarget(catalog.get(spec.substring(0, colon)), count);
        }

        public String label() {
            return count == 1 ? gpu.name() : gpu.name() + "×" + count;
        }
    }

    /**
     * Requests arriving at a rate (Poisson, seeded) with prompt and output lengths from distributions in the serving
     * simulation's syntax ("fixed:N", "uniform:A:B", "normal:M:SD", "lognormal:MU:SIGMA").
     */
    public record RequestRate(double requestsPerSecond, String promptLen, String outputLen, double durationSeconds, long seed) {
        public List<ServingSimulator.Request> requests() {
            return ServingSimulator.poisson(requestsPerSecond, durationSeconds, LengthDistribution.parse(promptLen), LengthDistribution.parse(outputLen), seed);
        }
    }

    /**
     * The serving workload: context per sequence and either concurrent sequences to hold ({@code rate} null), or a request
     * rate that must be served without a growing queue (p99 queue time at most {@link #MAX_QUEUE_SECONDS} in the simulation).
     */
    public record Workload(int ctx, int concurrency, RequestRate rate) {
        public Workload(int ctx, int concurrency) {
            this(ctx, concurrency, null);
        }

        public String describe() {
            return rate == null ? concurrency + " sequences of " + ctx + " tokens"
                    : String.format(Locale.ROOT, "%s requests/s (prompts %s, outputs %s)", number(rate.requestsPerSecond()), rate.promptLen(), rate.outputLen());
        }
    }

    /**
     * A GPU keeps up with a request rate when the simulated requests wait at most this long (p99) before their prefill starts.
     * Continuous batching admits a request at the next step while there is room, so a server that keeps up queues for
     * milliseconds; a saturated one queues longer and longer over the run. (Comparing served with offered requests/s does not
     * separate the two on a short run: the last requests' own latency stretches the makespan.)
     */
    public static final double MAX_QUEUE_SECONDS = 1.0;

    /**
     * One candidate on one GPU target: sequences of the workload's context that fit, decode tokens/s (at the batch that
     * fits; for a request rate the simulated output tokens/s), cost per million tokens (null without a catalogue price),
     * whether it holds the workload, and for a rate the served requests/s and the p99 queue seconds.
     */
    public record Fit(String gpu, long maxSequences, double decodeTokensPerSecond, Double usdPerMillionTokens, boolean holds,
                      Double servedRequestsPerSecond, Double queueSecondsP99) {
    }

    public record Pruned(String label, long estimatedBytes, String reason) {
    }

    /** A measured candidate: its real bytes and quality loss, and its fits at those bytes. */
    public record Measured(String label, long bytes, double loss, boolean meetsQuality, List<Fit> fits) {
        /** The GPU target that holds the workload cheapest (by price when the catalogue has one, then most sequences); null if none. */
        public Fit best() {
            return Recommendation.best(fits);
        }
    }

    /** The Pareto front (ascending bytes), the recommended candidate (null when none qualifies) and the reasons in words. */
    public record Decision(List<Measured> front, Measured recommended, String reasons) {
    }

    public static Fit best(List<Fit> fits) {
        return fits.stream().filter(Fit::holds)
                .min(Comparator.comparing((Fit f) -> f.usdPerMillionTokens() == null ? 0.0 : f.usdPerMillionTokens()).thenComparing(f -> -f.maxSequences()))
                .orElse(null);
    }

    /** Bytes before the artifact exists: a {@link WeightsDType} name, or bits per weight when {@code sizedAs} is null. */
    public static long estimatedBytes(ModelShape shape, String sizedAs, double bitsPerWeight) {
        return sizedAs != null ? WeightsDType.bytes(shape, sizedAs) : (long) Math.ceil(bitsPerWeight * shape.params() / 8.0);
    }

    /** The candidate on every GPU target (fp16 KV cache, utilization 0.9, the default overhead, tensor parallel = the count). */
    public static List<Fit> fits(ModelShape shape, long weightsBytes, List<GpuTarget> gpus, Workload w) {
        List<Fit> fits = new ArrayList<>();
        for (GpuTarget g : gpus) {
            long sequences;
            double tokensPerSecond;
            try {
                CapacityReport r = Capacity.compute(shape, g.gpu(), weightsBytes, w.ctx(), KvDType.FP16, Capacity.DEFAULT_UTILIZATION,
                        Capacity.defaultOverheadBytes(shape), Precision.FP16, g.count());
                sequences = r.maxSequences();
                tokensPerSecond = r.decodeTokensPerSecond();
            } catch (CapacityException e) {
                fits.add(new Fit(g.label(), 0, 0, null, false, w.rate() == null ? null : 0.0, null));
                continue;
            }
            if (w.rate() == null) {
                fits.add(new Fit(g.label(), sequences, tokensPerSecond, usdPerMillion(g, tokensPerSecond), sequences >= w.concurrency(), null, null));
                continue;
            }
            try {
                ServingSimulator.Result s = ServingPlan.of(shape, weightsBytes, g.gpu()).simulate(g.count(), w.rate().requests());
                boolean holds = s.queueSeconds().p99() <= MAX_QUEUE_SECONDS;
                fits.add(new Fit(g.label(), sequences, s.outputTokensPerSecond(), usdPerMillion(g, s.outputTokensPerSecond()), holds, s.requestsPerSecond(),
                        s.queueSeconds().p99()));
            } catch (CapacityException e) { // the longest request does not fit, or no KV room at all
                fits.add(new Fit(g.label(), sequences, 0, null, false, 0.0, null));
            }
        }
        return fits;
    }

    private static Double usdPerMillion(GpuTarget g, double tokensPerSecond) {
        return g.gpu().hourlyUsd() > 0 && tokensPerSecond > 0 ? g.gpu().hourlyUsd() * g.count() / (tokensPerSecond * 3600) * 1e6 : null;
    }

    /** Null when the candidate, at its estimated bytes, holds the workload on some GPU target; otherwise why it is pruned. */
    public static Pruned prune(ModelShape shape, String label, long estimatedBytes, List<GpuTarget> gpus, Workload w) {
        List<Fit> fits = fits(shape, estimatedBytes, gpus, w);
        if (fits.stream().anyMatch(Fit::holds)) return null;
        String where = String.join(" / ", gpus.stream().map(GpuTarget::label).toList());
        if (w.rate() == null) {
            long most = fits.stream().mapToLong(Fit::maxSequences).max().orElse(0);
            return new Pruned(label, estimatedBytes, String.format(Locale.ROOT, "about %.1f MB of weights: at most %d sequences of %d tokens on %s, %d needed",
                    estimatedBytes / 1e6, most, w.ctx(), where, w.concurrency()));
        }
        double served = fits.stream().mapToDouble(f -> f.servedRequestsPerSecond() == null ? 0 : f.servedRequestsPerSecond()).max().orElse(0);
        String queue = fits.stream().filter(f -> f.queueSecondsP99() != null).map(f -> String.format(Locale.ROOT, "%.1f s on %s", f.queueSecondsP99(), f.gpu()))
                .reduce((a, b) -> a + ", " + b).orElse("the requests do not fit");
        return new Pruned(label, estimatedBytes, String.format(Locale.ROOT, "about %.1f MB of weights: at most %s requests/s served on %s, %s offered (p99 queue %s; %s s allowed)",
                estimatedBytes / 1e6, number(served), where, number(w.rate().requestsPerSecond()), queue, number(MAX_QUEUE_SECONDS)));
    }

    /** A measured candidate, sized again with its real bytes. */
    public static Measured measured(ModelShape shape, String label, long bytes, double loss, double maxLoss, List<GpuTarget> gpus, Workload w) {
        return new Measured(label, bytes, loss, loss <= maxLoss, fits(shape, bytes, gpus, w));
    }

    /**
     * The front (no other candidate is as small and as close to the base, and strictly better in one) and the recommendation:
     * among the candidates within the quality budget that hold the workload, the cheapest per million tokens on its best GPU,
     * then the most sequences, then the least loss.
     */
    public static Decision decide(String metric, double maxLoss, Workload w, List<Measured> measured, List<Pruned> pruned) {
        List<Measured> front = measured.stream()
                .filter(e -> measured.stream().noneMatch(o -> o != e && o.bytes() <= e.bytes() && o.loss() <= e.loss() && (o.bytes() < e.bytes() || o.loss() < e.loss())))
                .sorted(Comparator.comparingLong(Measured::bytes)).toList();
        Measured recommended = measured.stream().filter(Measured::meetsQuality).filter(e -> e.best() != null)
                .min(Comparator.comparing((Measured e) -> cost(e.best())).thenComparing(e -> -e.best().maxSequences()).thenComparingDouble(Measured::loss))
                .orElse(null);
        return new Decision(front, recommended, reasons(metric, maxLoss, w, measured, pruned, recommended));
    }

    private static double cost(Fit f) {
        return f.usdPerMillionTokens() == null ? 0 : f.usdPerMillionTokens();
    }

    private static String reasons(String metric, double maxLoss, Workload w, List<Measured> measured, List<Pruned> pruned, Measured rec) {
        StringBuilder b = new StringBuilder();
        if (rec == null) {
            b.append(measured.isEmpty() && !pruned.isEmpty()
                    ? "No candidate can serve " + w.describe() + " on these GPUs, so none was quantized."
                    : String.format(Locale.ROOT, "No candidate meets %s ≤ %.5f and holds %s.", metric, maxLoss, w.describe()));
        } else {
            Fit f = rec.best();
            b.append(String.format(Locale.ROOT, "%s: %s on %s, %s %.5f (budget %.5f)", rec.label(), holds(f, w), f.gpu(), metric, rec.loss(), maxLoss));
            if (f.usdPerMillionTokens() != null) b.append(String.format(Locale.ROOT, ", $%.4f per million tokens", f.usdPerMillionTokens()));
            b.append('.');
            for (Measured e : measured) {
                if (e == rec || e.meetsQuality()) continue;
                Fit ef = e.best();
                if (ef != null && ef.maxSequences() >= f.maxSequences()) {
                    b.append(String.format(Locale.ROOT, " %s would fit %d but exceeds your %s budget (%.5f).", e.label(), ef.maxSequences(), metric, e.loss()));
                }
            }
            for (Measured e : measured) {
                if (e == rec || !e.meetsQuality() || e.best() == null) continue;
                if (e.loss() < rec.loss()) {
                    Fit ef = e.best();
                    b.append(String.format(Locale.ROOT, " %s is closer to the base (%.5f) but costs more to serve (%d sequences on %s%s).", e.label(), e.loss(),
                            ef.maxSequences(), ef.gpu(), ef.usdPerMillionTokens() == null ? "" : String.format(Locale.ROOT, ", $%.6f per million tokens", ef.usdPerMillionTokens())));
                }
            }
        }
        for (Pruned p : pruned) b.append(' ').append(p.label()).append(" was not quantized: ").append(p.reason()).append('.');
        return b.toString();
    }

    private static String holds(Fit f, Workload w) {
        return w.rate() == null ? "fits " + f.maxSequences() + " sequences of " + w.ctx() + " tokens"
                : String.format(Locale.ROOT, "serves %s requests/s (p99 queue %.2f s, %.0f output tokens/s)", number(w.rate().requestsPerSecond()),
                f.queueSecondsP99(), f.decodeTokensPerSecond());
    }

    private static String number(double x) {
        return x == Math.rint(x) ? String.valueOf((long) x) : String.format(Locale.ROOT, "%.2f", x);
    }
}
