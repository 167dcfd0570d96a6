package dev.featherweight.kernels.recommend;

import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.recommend.Recommendation;
import dev.featherweight.catalog.recommend.Recommendation.Fit;
import dev.featherweight.catalog.recommend.Recommendation.GpuTarget;
import dev.featherweight.catalog.recommend.Recommendation.Measured;
import dev.featherweight.catalog.recommend.Recommendation.Pruned;
import dev.featherweight.catalog.recommend.Recommendation.Workload;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * "Which quantization should we ship on this GPU?": candidates are sized with the capacity model first (nominal bits
 * per weight) and those that cannot hold the workload on any of the GPUs are pruned before any compute; the rest are
 * quantized, measured with a quality metric, sized again with their real bytes, and the Pareto front (bytes, quality
 * loss) and a recommendation with its reasons come back. The sizing, pruning and decision are the catalogue's
 * {@link Recommendation} (the platform's recommend jobs decide with the same code); this class produces and measures.
 */
public final class Recommender {
    private Recommender() {
    }

    /** Makes a candidate's artifact (a .gguf file or a folder) under {@code dir} and returns its path. */
    @FunctionalInterface
    public interface Producer {
        Path produce(Path dir) throws Exception;
    }

    /**
     * A candidate recipe: its label, how the capacity model sizes it before it exists (a {@code WeightsDType} name, or
     * bits per weight when {@code sizedAs} is null) and how to make it.
     */
    public record Candidate(String label, String sizedAs, double bitsPerWeight, Producer producer) {
        long estimatedBytes(ModelShape shape) {
            return Recommendation.estimatedBytes(shape, sizedAs, bitsPerWeight);
        }
    }

    /** The quality lost by an artifact against the base model; lower is better (Δ perplexity, KL divergence, 1 − same-top-p). */
    public interface QualityMetric {
        String name();

        double loss(Path artifact);
    }

    public record Evaluated(String label, Path artifact, long bytes, double loss, boolean meetsQuality, List<Fit> fits, double seconds) {
        /** The GPU target that holds the workload cheapest (by price when the catalogue has one, else most sequences); null if none. */
        public Fit best() {
            return Recommendation.best(fits);
        }

        Measured measured() {
            return new Measured(label, bytes, loss, meetsQuality, fits);
        }
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
            Pruned p = Recommendation.prune(shape, c.label(), c.estimatedBytes(shape), gpus, w);
            if (p == null) kept.add(c);
            else pruned.add(p);
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
            Measured m = Recommendation.measured(shape, c.label(), bytes, loss, maxLoss, gpus, w);
            evaluated.add(new Evaluated(c.label(), artifact, bytes, loss, m.meetsQuality(), m.fits(), seconds));
            if (log != null) log.accept(String.format(Locale.ROOT, "%s: %d bytes, %s %.5f (%.1f s)", c.label(), bytes, metric.name(), loss, seconds));
        }
        List<Measured> measured = evaluated.stream().map(Evaluated::measured).toList();
        Recommendation.Decision d = Recommendation.decide(metric.name(), maxLoss, w, measured, pruned);
        List<Evaluated> front = d.front().stream().map(m -> evaluated.get(measured.indexOf(m))).toList();
        Evaluated recommended = d.recommended() == null ? null : evaluated.get(measured.indexOf(d.recommended()));
        return new Result(metric.name(), maxLoss, w, evaluated, pruned, front, recommended, d.reasons(), (System.nanoTime() - t0) / 1e9);
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
