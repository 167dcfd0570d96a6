package dev.featherweight.eval;

import dev.featherweight.catalog.capacity.Capacity;
import dev.featherweight.catalog.capacity.CapacityException;
import dev.featherweight.catalog.capacity.CapacityReport;
import dev.featherweight.catalog.capacity.Gpu;
import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.catalog.capacity.KvDType;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.kernels.capacity.SizedModel;
import dev.featherweight.catalog.capacity.Precision;
import dev.featherweight.kernels.formats.hf.LlamaConfig;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.infer.Perplexity;
import dev.featherweight.kernels.formats.HellaSwagTasks;
import dev.featherweight.kernels.infer.HellaSwag;
import dev.featherweight.kernels.infer.KlDivergence;
import dev.featherweight.kernels.infer.Numerics;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernels behind the {@link EvaluationEngine} port: perplexity as {@code fw perplexity} computes it
 * (same loader, tokenizer and {@link Perplexity#run}, llama.cpp mode), capacity from the kernels'
 * capacity package (GPU catalog, utilization 0.9, default activation overhead, paged and preallocated).
 */
public class KernelsEvaluationEngine implements EvaluationEngine {
    private final int threads;

    public KernelsEvaluationEngine(int threads) {
        this.threads = threads;
    }

    public KernelsEvaluationEngine() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** A model folder as is; an artifact folder holding one .gguf file → that file; holding "model/" → that folder. */
    static Path modelPath(Path dir) throws Exception {
        if (Files.isRegularFile(dir) || Files.exists(dir.resolve("config.json"))) return dir;
        try (var s = Files.list(dir)) {
            List<Path> ggufs = s.filter(p -> p.toString().endsWith(".gguf")).toList();
            if (ggufs.size() == 1) return ggufs.getFirst();
        }
        if (Files.isDirectory(dir.resolve("model"))) return dir.resolve("model");
        throw new IllegalArgumentException(dir + " holds neither a model folder nor one .gguf file");
    }

    @Override
    public double perplexity(Path model, Path tokenizerDir, Path text, int ctx, int chunks) throws Exception {
        try (Parallel pool = new Parallel(threads);
             LoadedModel lm = ModelLoader.open(modelPath(model), tokenizerDir, pool)) {
            int[] ids = lm.encode(Files.readString(text));
            var cfg = lm.model().config();
            Perplexity.Options o = new Perplexity.Options(Perplexity.Mode.parse("llamacpp"), ctx, chunks > 0 ? chunks : -1, 0, cfg.addBos(), cfg.bosId());
            return Perplexity.run(lm.model(), ids, o, null).perplexity();
        }
    }

    @Override
    public List<CapacityRow> capacity(Path sourceModel, long weightBytes, List<String> gpus, int ctx, String kvDtype, Precision precision) {
        ModelShape shape = SizedModel.shapeOf(sourceModel.getFileName().toString(), LlamaConfig.read(sourceModel));
        if (ctx > shape.maxPositions()) // the same for every GPU and every attempt: the job's mistake, not a capacity of 0
            throw new IllegalArgumentException("capacity at ctx " + ctx + ": the model has only " + shape.maxPositions()
                    + " positions (max_position_embeddings); ask for ctx <= " + shape.maxPositions());
        KvDType kv = KvDType.parse(kvDtype);
        GpuCatalog catalog = GpuCatalog.builtIn();
        List<CapacityRow> rows = new ArrayList<>();
        for (String name : gpus) {
            Gpu gpu = catalog.get(name);
            try {
                CapacityReport r = Capacity.compute(shape, gpu, weightBytes, ctx, kv, Capacity.DEFAULT_UTILIZATION,
                        Capacity.defaultOverheadBytes(shape), precision, 1);
                rows.add(new CapacityRow(gpu.name(), gpu.memoryBytes(), weightBytes, r.kvBytesPerToken(), r.maxTokens(), r.maxSequences(),
                        r.maxSequencesPaged(), r.optimalBatch(), r.decodeTokensPerSecond(), null));
            } catch (CapacityException e) { // not even one sequence fits: a result, not an error
                rows.add(new CapacityRow(gpu.name(), gpu.memoryBytes(), weightBytes, shape.kvBytesPerToken(kv), 0, 0, 0, 0, 0, e.getMessage()));
            }
        }
        return rows;
    }

    @Override
    public void kldBase(Path baseModel, Path tokenizerDir, Path text, int ctx, int chunks, Path out) throws Exception {
        try (Parallel pool = new Parallel(threads);
             LoadedModel lm = ModelLoader.open(modelPath(baseModel), tokenizerDir, pool)) {
            KlDivergence.writeBase(lm.model(), lm.encode(Files.readString(text)), ctx, chunks, Numerics.LLAMACPP_KV_F16, out, null);
        }
    }

    @Override
    public Map<String, Double> kld(Path model, Path tokenizerDir, Path baseLogits) throws Exception {
        try (Parallel pool = new Parallel(threads);
             LoadedModel lm = ModelLoader.open(modelPath(model), tokenizerDir, pool)) {
            KlDivergence.Result r = KlDivergence.compare(lm.model(), baseLogits, 0, Numerics.LLAMACPP_KV_F16, null);
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("kld_mean", r.kldMean());
            m.put("kld_median", r.kldMedian());
            m.put("kld_p99", r.kld99());
            m.put("kld_max", r.kldMax());
            m.put("same_top_p", r.sameTopP());
            m.put("delta_p_rms", r.deltaPRms());
            m.put("ppl", r.pplModel());
            m.put("ppl_unc", r.pplModelUnc());
            return m;
        }
    }

    @Override
    public Map<String, Double> multipleChoice(Path model, Path tokenizerDir, Path tasks, int limit) throws Exception {
        try (Parallel pool = new Parallel(threads);
             LoadedModel lm = ModelLoader.open(modelPath(model), tokenizerDir, pool)) {
            HellaSwag.Result r = HellaSwag.score(lm.model(), lm::encode, HellaSwagTasks.parse(Files.readString(tasks)), limit, Numerics.LLAMACPP_KV_F16);
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("mc_accuracy", r.accuracy());
            m.put("mc_accuracy_unc", r.accuracyUnc());
            m.put("mc_tasks", (double) r.tasks());
            return m;
        }
    }

    @Override
    public String version() {
        return "featherweight-kernels " + dev.featherweight.catalog.Catalog.ENGINE_VERSION; // the catalogue's engine version
    }
}
