package dev.featherweight.kernels.cli;

import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.catalog.recommend.Recommendation;
import dev.featherweight.kernels.capacity.SizedModel;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.formats.gguf.GgufModelPlan;
import dev.featherweight.kernels.formats.gguf.HfToGguf;
import dev.featherweight.kernels.formats.gguf.ImportanceMatrix;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.infer.KlDivergence;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.Numerics;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.infer.Perplexity;
import dev.featherweight.kernels.pipeline.BudgetMix;
import dev.featherweight.kernels.pipeline.CalibrationPipeline;
import dev.featherweight.kernels.pipeline.LlamaQuantize;
import dev.featherweight.kernels.pipeline.MixSensitivity;
import dev.featherweight.kernels.pipeline.QuantizeJob;
import dev.featherweight.kernels.quant.Recipe;
import dev.featherweight.kernels.quant.gguf.FileType;
import dev.featherweight.kernels.recommend.Recommender;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code fw recommend}: which quantization to ship on these GPUs for this workload and quality budget, by measurement. */
@Command(name = "recommend", mixinStandardHelpOptions = true,
        description = "Plan candidate quantizations, prune those the GPUs cannot serve (capacity model, before any compute), quantize and measure the rest, "
                + "print the Pareto front and a recommendation.")
public final class RecommendCommand implements Callable<Integer> {
    /** The candidates fw recommend knows, in the order they are planned. */
    static final List<String> ALL = List.of("gguf:Q3_K_M", "gguf:Q4_K_M", "gguf:Q5_K_M", "gguf:Q6_K", "gguf:Q8_0", "gguf:bpw3.5", "gguf:bpw4.5",
            "gptq:4", "gptq:3", "awq:4", "nf4", "llm-int8", "fp16");

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "Hugging Face folder")
    Path model;

    @Option(names = "--gpu", required = true, description = "GPU of the catalogue, NAME or NAME:COUNT (tensor parallel); repeat for several")
    List<String> gpus;

    @Option(names = "--ctx", required = true, description = "context length per sequence")
    int ctx;

    /** The workload: concurrent sequences, or a request rate served as the serving simulation ({@code fw simulate}) serves it. */
    static final class WorkloadOptions {
        @Option(names = "--concurrency", required = true, description = "workload: concurrent sequences of --ctx tokens to hold")
        Integer concurrency;

        @Option(names = "--rate", required = true, description = "workload: requests per second (Poisson) to serve, at least "
                + "95 % of them in the simulation (lengths: --prompt-len, --output-len)")
        Double rate;
    }

    @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
    WorkloadOptions workload;

    @Option(names = "--prompt-len", defaultValue = "fixed:256", description = "with --rate: prompt lengths, fixed:N, uniform:A:B, normal:M:SD, lognormal:MU:SIGMA (default ${DEFAULT-VALUE})")
    String promptLen;

    @Option(names = "--output-len", defaultValue = "fixed:128", description = "with --rate: output lengths (default ${DEFAULT-VALUE})")
    String outputLen;

    @Option(names = "--duration", defaultValue = "60", description = "with --rate: seconds of simulated arrivals (default ${DEFAULT-VALUE})")
    double duration;

    @Option(names = "--seed", defaultValue = "1", description = "with --rate: seed of the arrivals (default ${DEFAULT-VALUE})")
    long seed;

    /** The quality budget: exactly one. */
    static final class QualityBudget {
        @Option(names = "--max-kld", required = true, description = "quality budget: mean KL divergence to the base model at most this")
        Double maxKld;

        @Option(names = "--max-dppl", required = true, description = "quality budget: perplexity increase over the base model at most this")
        Double maxDppl;

        @Option(names = "--min-same-top-p", required = true, description = "quality budget: share of tokens whose top prediction equals the base model's, at least this")
        Double minSameTopP;
    }

    @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
    QualityBudget budget;

    @Option(names = "--text", required = true, description = "held-out evaluation text (not the calibration text)")
    Path text;

    @Option(names = "--chunks", defaultValue = "8", description = "perplexity chunks of --eval-ctx tokens (default ${DEFAULT-VALUE})")
    int chunks;

    @Option(names = "--eval-ctx", defaultValue = "256", description = "perplexity context (default ${DEFAULT-VALUE})")
    int evalCtx;

    @Option(names = "--calibration", required = true, description = "calibration text (GPTQ/AWQ samples, budget mixes' sensitivities)")
    Path calibration;

    @Option(names = "--imatrix", description = "importance matrix for the GGUF candidates")
    Path imatrix;

    @Option(names = "--candidates", split = ",", description = "subset of: gguf:Q3_K_M, gguf:Q4_K_M, gguf:Q5_K_M, gguf:Q6_K, gguf:Q8_0, gguf:bpwB (budget mix), "
            + "gptq:4, gptq:3, awq:4, nf4, llm-int8, fp16 (default: all)")
    List<String> candidates;

    @Option(names = "--samples", defaultValue = "32", description = "GPTQ/AWQ calibration samples (default ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--work-dir", required = true, description = "where the candidates' artifacts are written")
    Path workDir;

    @Option(names = "--threads", description = "threads (default: all cores)")
    Integer threads;

    @Option(names = "--json", description = "print the result as JSON")
    boolean json;

    @Override
    public Integer call() throws IOException {
        int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        GpuCatalog catalog = GpuCatalog.builtIn();
        List<Recommendation.GpuTarget> targets = gpus.stream().map(g -> Recommendation.GpuTarget.parse(g, catalog)).toList();
        Recommendation.Workload w = workload.rate != null
                ? new Recommendation.Workload(ctx, 0, new Recommendation.RequestRate(workload.rate, promptLen, outputLen, duration, seed))
                : new Recommendation.Workload(ctx, workload.concurrency);
        SizedModel sized = SizedModel.resolve(model.toString(), null);
        ImportanceMatrix im = imatrix == null ? null : ImportanceMatrix.read(imatrix);
        List<Recommender.Candidate> planned = new ArrayList<>();
        for (String c : candidates != null ? candidates : ALL) planned.add(candidate(c.trim(), im, nThreads));
        var err = spec.commandLine().getErr();
        try (Parallel pool = new Parallel(nThreads)) {
            Recommender.QualityMetric metric;
            double maxLoss;
            if (budget.maxDppl != null) {
                metric = new PerplexityLoss(model, text, evalCtx, chunks, pool);
                maxLoss = budget.maxDppl;
            } else {
                Files.createDirectories(workDir);
                metric = new KldLoss(model, text, evalCtx, chunks, budget.minSameTopP != null, workDir.resolve("base-logits.kld"), pool);
                maxLoss = budget.maxKld != null ? budget.maxKld : 1 - budget.minSameTopP;
            }
            Recommender.Result r = Recommender.run(sized.shape(), planned, targets, w, metric, maxLoss,
                    workDir, err::println);
            print(r);
        }
        return 0;
    }

    private void print(Recommender.Result r) {
        var o = spec.commandLine().getOut();
        if (json) {
            o.println(JsonMapper.builder().build().writeValueAsString(r));
            return;
        }
        o.printf(Locale.ROOT, "%-14s %10s %10s %5s %-6s %s%n", "candidate", "bytes", r.metric(), "front", "meets", "sequences / decode tok/s / $ per M tokens per GPU");
        for (var e : r.evaluated()) {
            StringBuilder fits = new StringBuilder();
            for (var f : e.fits()) {
                fits.append(String.format(Locale.ROOT, "  %s %d / %.0f", f.gpu(), f.maxSequences(), f.decodeTokensPerSecond()));
                if (f.usdPerMillionTokens() != null) fits.append(String.format(Locale.ROOT, " / $%.4f", f.usdPerMillionTokens()));
            }
            o.printf(Locale.ROOT, "%-14s %10d %10.5f %5s %-6s%s%n", e.label(), e.bytes(), e.loss(), r.front().contains(e) ? "*" : "", e.meetsQuality() ? "yes" : "no", fits);
        }
        for (var p : r.pruned()) o.printf(Locale.ROOT, "%-14s %10d %10s %5s %-6s  pruned: %s%n", p.label(), p.estimatedBytes(), "-", "", "", p.reason());
        o.println();
        o.println("recommendation: " + r.reasons());
        o.printf(Locale.ROOT, "(%.1f s)%n", r.seconds());
    }

    private Recommender.Candidate candidate(String c, ImportanceMatrix im, int threads) {
        String imName = imatrix == null ? null : imatrix.toString();
        if (c.startsWith("gguf:bpw")) {
            double bpw = Double.parseDouble(c.substring("gguf:bpw".length()));
            return new Recommender.Candidate(c, null, bpw, dir -> {
                Path out = dir.resolve("model.gguf");
                try (SafetensorsModel w = SafetensorsModel.open(model)) {
                    GgufModelPlan plan = HfToGguf.plan(model, w, GgmlType.F32);
                    var measured = MixSensitivity.measure(model, plan, im, calibration, BudgetMix.defaultCandidates(im != null), threads);
                    var mix = BudgetMix.allocateMix(plan, new BudgetMix.Budget.BitsPerWeight(bpw), im, imName, measured);
                    LlamaQuantize.quantizeMix(plan, mix.types(), mix.label(), im, imName, out, threads, null);
                }
                return out;
            });
        }
        if (c.startsWith("gguf:")) {
            FileType ft = FileType.parse(c.substring(5));
            return new Recommender.Candidate(c, ft.name().toLowerCase(Locale.ROOT), 0, dir -> {
                Path out = dir.resolve("model.gguf");
                try (SafetensorsModel w = SafetensorsModel.open(model)) {
                    LlamaQuantize.quantize(HfToGguf.plan(model, w, GgmlType.F32), ft, im, imName, out, threads, null);
                }
                return out;
            });
        }
        if (c.equals("fp16")) {
            return new Recommender.Candidate(c, "fp16", 0, dir -> {
                Path out = dir.resolve("model.gguf");
                HfToGguf.convert(model, GgmlType.F16, out);
                return out;
            });
        }
        Map<String, Object> values = new LinkedHashMap<>();
        String method, sizedAs;
        double bpw = 0;
        switch (c) {
            case "gptq:4", "gptq:3" -> {
                method = "gptq";
                int bits = c.endsWith("4") ? 4 : 3;
                values.put("bits", bits);
                sizedAs = bits == 4 ? "gptq-4bit" : null;
                bpw = bits + 16.0 / 128 + bits / 128.0;
            }
            case "awq:4" -> {
                method = "awq";
                values.put("bits", 4);
                sizedAs = "awq-4bit";
            }
            case "nf4" -> {
                method = "nf4";
                sizedAs = "nf4";
            }
            case "llm-int8" -> {
                method = "llm-int8";
                sizedAs = "int8";
            }
            default -> throw new IllegalArgumentException("unknown candidate '" + c + "' (" + String.join(", ", ALL) + ", or gguf:bpwB)");
        }
        Recipe recipe = Recipe.of(method, values);
        return new Recommender.Candidate(c, sizedAs, bpw, dir -> {
            Path out = dir.resolve("model");
            try (Parallel pool = new Parallel(threads)) {
                QuantizeJob.run(model, recipe, new QuantizeJob.Calibration(calibration, samples, Math.min(evalCtx, 2048), 42), out, null,
                        new CalibrationPipeline.Listener() { }, pool);
            }
            return out;
        });
    }

    /**
     * KL divergence to the base model on the held-out text (kernels' {@link KlDivergence}, llama-perplexity's protocol): the mean,
     * or 1 − same-top-p; the base logits are written once.
     */
    static final class KldLoss implements Recommender.QualityMetric {
        private final Path tokenizer, baseFile;
        private final int chunks;
        private final boolean sameTop;
        private final Parallel pool;

        KldLoss(Path model, Path text, int ctx, int chunks, boolean sameTop, Path baseFile, Parallel pool) throws IOException {
            this.tokenizer = model;
            this.baseFile = baseFile;
            this.chunks = chunks;
            this.sameTop = sameTop;
            this.pool = pool;
            try (LoadedModel lm = ModelLoader.open(model, null, pool)) {
                KlDivergence.writeBase(lm.model(), lm.encode(Files.readString(text)), ctx, chunks, Numerics.FP32, baseFile, null);
            }
        }

        @Override
        public String name() {
            return sameTop ? "1-same-top-p" : "KLD";
        }

        @Override
        public double loss(Path artifact) {
            try (LoadedModel lm = ModelLoader.open(artifact, Files.isDirectory(artifact) ? null : tokenizer, pool)) {
                var r = KlDivergence.compare(lm.model(), baseFile, chunks, Numerics.FP32, null);
                return sameTop ? 1 - r.sameTopP() : r.kldMean();
            }
        }
    }

    /** Δ perplexity against the base model on the held-out text (llama.cpp protocol). */
    static final class PerplexityLoss implements Recommender.QualityMetric {
        private final Path model, text;
        private final int ctx, chunks;
        private final Parallel pool;
        private final double base;

        PerplexityLoss(Path model, Path text, int ctx, int chunks, Parallel pool) {
            this.model = model;
            this.text = text;
            this.ctx = ctx;
            this.chunks = chunks;
            this.pool = pool;
            this.base = perplexity(model);
        }

        @Override
        public String name() {
            return "Δppl";
        }

        @Override
        public double loss(Path artifact) {
            return perplexity(artifact) - base;
        }

        private double perplexity(Path path) {
            try (LoadedModel lm = ModelLoader.open(path, Files.isDirectory(path) ? null : model, pool)) {
                var cfg = lm.model().config();
                int[] ids = lm.encode(Files.readString(text));
                return Perplexity.run(lm.model(), ids, new Perplexity.Options(Perplexity.Mode.LLAMACPP, ctx, chunks, 0, cfg.addBos(), cfg.bosId())).perplexity();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
