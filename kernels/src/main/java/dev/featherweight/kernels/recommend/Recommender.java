package dev.featherweight.kernels.recommend;

import dev.featherweight.catalog.capacity.Capacity;
import dev.featherweight.catalog.capacity.CapacityException;
import dev.featherweight.catalog.capacity.CapacityReport;
import dev.featherweight.catalog.capacity.Gpu;
import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.catalog.capacity.KvDType;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.capacity.Precision;
import dev.featherweight.catalog.capacity.WeightsDType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * "Which quantization should we ship on this GPU?": candidates are sized with the capacity model first (nominal bits
 * per weight) and those that cannot hold the workload on any of the GPUs are pruned before any compute; the rest are
 * quantized, measured with a quality metric, sized again with their real bytes, and the Pareto front (bytes, quality
 * loss) and a recommendation with its reasons come back.
 */
public final class Recommender {
    private Recommender() {
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

    /** The serving workload: context per sequence and concurrent sequences to hold. */
    public record Workload(int ctx, int concurrency) {
    }

    /** Makes a candidate's artifact (a .gguf file or a folder) under {@code dir} and returns its path. */
    @FunctionalInterface
    public interface Producer {
        Path produce(Path dir) throws Exception;
    }

    /**
     * A candidate recipe: its label, how the capacity model sizes it before it exists (a {@link WeightsDType} name, or
     * bits per weight when {@code sizedAs} is null) and how to make it.
     */
    public record Candidate(String label, String sizedAs, double bitsPerWeight, Producer producer) {
        long estimatedBytes(ModelShape shape) {
            return sizedAs != null ? WeightsDType.bytes(shape, sizedAs) : (long) Math.ceil(bitsPerWeight * shape.params() / 8.0);
        }
    }

    /** The quality lost by an artifact against the base model; lower is better (Δ perplexity now; KL divergence plugs in the same way). */
    public interface QualityMetric {
        String name();

        double loss(Path artifact);
    }

    /** One candidate on one GPU target, with the workload's context. */
    public record Fit(String gpu, long maxSequences, double decodeTokensPerSecond, Double usdPerMillionTokens) {
    }

    public record Evaluated(String label, Path artifact, long bytes, double loss, boolean meetsQuality, List<Fit> fits, double seconds) {
        /** The GPU target that serves the workload cheapest (by price when the catalogue has one, else most sequences). */
        public Fit best(int concurrency) {
            return fits.stream().filter(f -> f.maxSequences() >= concurrency)
                    .min(Comparator.comparing((Fit f) -> f.usdPerMillionTokens() == null ? 0.0 : f.usdPerMillionTokens())
                            .thenComparing(f -> -f.maxSequences())).orElse(null);
        }
    }

    public record Pruned(String label, long estimatedBytes, String reason) {
    }

    public record Result(String metric, double maxLoss, Workload workload, List<Evaluated> evaluated, List<Pruned> pruned,
                         List<Evaluated> front, Evaluated recommended, String reasons, double seconds) {
    }

    /** Sizes, prunes, produces and measures the candidates; see the class comment. */
    public static Result run(ModelShape shape, List<Candidate> candidates, List<GpuTarget> gpus, Workload w, QualityMetric metric,
                             double maxLoss, Path workDir, Consumer<String> log) {
        long t0 = System.nanoTime();
        List<Pruned> pruned = new ArrayList<>();
        List<Candidate> kept = new ArrayList<>();
        for (Candidate c : candidates) {
            long bytes = c.estimatedBytes(shape);
            List<Fit> fits = fits(shape, bytes, gpus, w);
            if (fits.stream().noneMatch(f -> f.maxSequences() >= w.concurrency())) {
                long most = fits.stream().mapToLong(Fit::maxSequences).max().orElse(0);
                pruned.add(new Pruned(c.label(), bytes, String.format(Locale.ROOT, "about %.1f MB of weights: at most %d sequences of %d tokens on %s, %d needed",
                        bytes / 1e6, most, w.ctx(), String.join(" / ", gpus.stream().map(GpuTarget::label).toList()), w.concurrency())));
            } else {
                kept.add(c);
            }
        }
        List<Evaluated> evaluated = new ArrayList<>();
        for (Candidate c : kept) {
            long c0 = System.nanoTime();
            Path artifact;
            try {
                Path dir = Files.createDirectories(workDir.resolve(c.label().replaceAll("[^A-Za-z0-9_.-]+", "_")));
                artifact = c.producer().produce(dir);
            } catch (Exception e) {
                throw new IllegalStateException("candidate " + c.label() + ": " + e.getMessage(), e);
            }
            long bytes = sizeOf(artifact);
            double loss = metric.loss(artifact);
            double seconds = (System.nanoTime() - c0) / 1e9;
            evaluated.add(new Evaluated(c.label(), artifact, bytes, loss, loss <= maxLoss, fits(shape, bytes, gpus, w), seconds));
            if (log != null) log.accept(String.format(Locale.ROOT, "%s: %d bytes, %s %.5f (%.1f s)", c.label(), bytes, metric.name(), loss, seconds));
        }
        List<Evaluated> front = evaluated.stream()
                .filter(e -> evaluated.stream().noneMatch(o -> o != e && o.bytes() <= e.bytes() && o.loss() <= e.loss() && (o.bytes() < e.bytes() || o.loss() < e.loss())))
                .sorted(Comparator.comparingLong(Evaluated::bytes)).toList();
        Evaluated recommended = evaluated.stream().filter(Evaluated::meetsQuality).filter(e -> e.best(w.concurrency()) != null)
                .min(Comparator.comparing((Evaluated e) -> cost(e.best(w.concurrency())))
                        .thenComparing(e -> -e.best(w.concurrency()).maxSequences())
                        .thenComparingDouble(Evaluated::loss)).orElse(null);
        return new Result(metric.name(), maxLoss, w, evaluated, pruned, front, recommended, reasons(metric.name(), maxLoss, w, evaluated, pruned, recommended),
                (System.nanoTime() - t0) / 1e9);
    }

    private static double cost(Fit f) {
        return f.usdPerMillionTokens() == null ? 0 : f.usdPerMillionTokens();
    }

    static List<Fit> fits(ModelShape shape, long weightsBytes, List<GpuTarget> gpus, Workload w) {
        List<Fit> fits = new ArrayList<>();
        for (GpuTarget g : gpus) {
            try {
                CapacityReport r = Capacity.compute(shape, g.gpu(), weightsBytes, w.ctx(), KvDType.FP16, Capacity.DEFAULT_UTILIZATION,
                        Capacity.defaultOverheadBytes(shape), Precision.FP16, g.count());
                Double usd = g.gpu().hourlyUsd() > 0 ? g.gpu().hourlyUsd() * g.count() / (r.decodeTokensPerSecond() * 3600) * 1e6 : null;
                fits.add(new Fit(g.label(), r.maxSequences(), r.decodeTokensPerSecond(), usd));
            } catch (CapacityException e) {
                fits.add(new Fit(g.label(), 0, 0, null));
            }
        }
        return fits;
    }

    private static String reasons(String metric, double maxLoss, Workload w, List<Evaluated> evaluated, List<Pruned> pruned, Evaluated rec) {
        StringBuilder b = new StringBuilder();
        if (rec == null) {
            b.append(String.format(Locale.ROOT, "No candidate meets %s ≤ %.5f and holds %d sequences of %d tokens.", metric, maxLoss, w.concurrency(), w.ctx()));
        } else {
            Fit f = rec.best(w.concurrency());
            b.append(String.format(Locale.ROOT, "%s: fits %d sequences of %d tokens on %s, %s %.5f (budget %.5f)", rec.label(), f.maxSequences(), w.ctx(), f.gpu(),
                    metric, rec.loss(), maxLoss));
            if (f.usdPerMillionTokens() != null) b.append(String.format(Locale.ROOT, ", $%.4f per million tokens", f.usdPerMillionTokens()));
            b.append('.');
            for (Evaluated e : evaluated) {
                if (e == rec || e.meetsQuality()) continue;
                Fit ef = e.best(w.concurrency());
                if (ef != null && ef.maxSequences() >= f.maxSequences()) {
                    b.append(String.format(Locale.ROOT, " %s would fit %d but exceeds your %s budget (%.5f).", e.label(), ef.maxSequences(), metric, e.loss()));
                }
            }
            for (Evaluated e : evaluated) {
                if (e == rec || !e.meetsQuality() || e.best(w.concurrency()) == null) continue;
                if (e.loss() < rec.loss()) {
                    Fit ef = e.best(w.concurrency());
                    b.append(String.format(Locale.ROOT, " %s is closer to the base (%.5f) but costs more to serve (%d sequences on %s%s).", e.label(), e.loss(),
                            ef.maxSequences(), ef.gpu(), ef.usdPerMillionTokens() == null ? "" : String.format(Locale.ROOT, ", $%.6f per million tokens", ef.usdPerMillionTokens())));
                }
            }
        }
        for (Pruned p : pruned) b.append(" ").append(p.label()).append(" was not quantized: ").append(p.reason()).append('.');
        return b.toString();
    }

    /** A file's size, or the sum of a folder's files. */
    static long sizeOf(Path artifact) {
        try {
            if (!Files.isDirectory(artifact)) return Files.size(artifact);
            try (Stream<Path> s = Files.walk(artifact)) {
                return s.filter(Files::isRegularFile).mapToLong(p -> {
                    try {
                        return Files.size(p);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }).sum();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
