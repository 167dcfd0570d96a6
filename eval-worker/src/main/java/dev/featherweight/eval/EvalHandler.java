package dev.featherweight.eval;

import dev.featherweight.catalog.Catalog;
import dev.featherweight.catalog.capacity.Precision;
import dev.featherweight.contracts.EvalSpec;
import dev.featherweight.contracts.Message;
import dev.featherweight.contracts.registry.Artifact;
import dev.featherweight.worker.RegistryClient;
import dev.featherweight.worker.TaskContext;
import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.worker.TaskFailure;
import dev.featherweight.worker.TaskHandler;
import dev.featherweight.worker.WorkDirs;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.io.IOException;
import java.nio.file.Files;
import java.util.concurrent.ConcurrentHashMap;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One evaluation task: perplexity of the source model (cached in the registry per model, text, ctx and
 * chunks) and of the artifact, their difference; KL divergence against the source model (its base logits file
 * computed once per model, text, ctx and chunks and kept in the registry as an internal blob of the model, so every
 * artifact of this and later jobs on any worker reuses it, and it goes when the model goes); multiple-choice
 * accuracy; and the capacity table. Metrics go to the artifact.
 */
public class EvalHandler implements TaskHandler {
    private final EvaluationEngine engine;
    private final RegistryClient registry;
    private final Path textsDir;
    /** One lock per base logits blob, so that concurrent tasks of a job on this worker compute a model/text pair's base only once. */
    private final ConcurrentHashMap<String, Object> baseLocks = new ConcurrentHashMap<>();
    private final Counter basesComputed;

    public EvalHandler(EvaluationEngine engine, RegistryClient registry, Path textsDir, MeterRegistry meters) {
        this.engine = engine;
        this.registry = registry;
        this.textsDir = textsDir;
        this.basesComputed = Counter.builder("featherweight.eval.kld.base.computed")
                .description("base logits files computed (not found in the registry)").register(meters);
    }

    @Override
    public Outcome run(Message.TaskAssigned task, TaskContext context) throws Exception {
        try {
            return evaluate(task, context);
        } catch (FormatException refused) {
            // a model (or artifact) that fails the kernels' model check fails the same way every time: its message is the
            // reason, no retry; only a failed write (disk, a busy output) may go better on another attempt
            boolean retryable = refused.kind() == FormatException.Kind.IO || refused.kind() == FormatException.Kind.OUTPUT_BUSY;
            throw new TaskFailure(refused.getMessage(), retryable, refused);
        }
    }

    /** W8A8 artifacts (compressed-tensors INT8/FP8) are served with 8-bit matmuls: the catalogue says so from the recipe in their lineage. */
    static Precision servingPrecision(Artifact artifact) {
        String recipe = artifact.lineage() == null ? null : artifact.lineage().recipe();
        if (recipe == null || recipe.isBlank()) return Precision.FP16;
        Map<String, Object> parsed = dev.featherweight.contracts.Json.MAPPER.readValue(recipe, new tools.jackson.core.type.TypeReference<Map<String, Object>>() {});
        return Catalog.builtIn().servingPrecision(parsed);
    }

    private Outcome evaluate(Message.TaskAssigned task, TaskContext context) throws Exception {
        EvalSpec spec = task.eval();
        Artifact artifact = registry.artifact(task.tenantId(), task.artifactId());
        Path source = registry.fetchModel(task.tenantId(), task.modelId());
        Map<String, Double> metrics = new LinkedHashMap<>();
        int steps = (spec.perplexity() == null ? 0 : 2) + (spec.capacity() == null ? 0 : 1) + (spec.kld() == null ? 0 : 2)
                + (spec.multipleChoice() == null ? 0 : 1), step = 0;
        if (spec.perplexity() != null) {
            EvalSpec.Perplexity p = spec.perplexity();
            Path text = textsDir.resolve(p.text() + ".txt");
            if (!Files.isRegularFile(text)) throw new TaskFailure("evaluation text '" + p.text() + "' not found in " + textsDir, false);
            Path artifactDir = registry.fetchArtifact(task.tenantId(), task.artifactId());
            String key = String.format(Locale.ROOT, "perplexity.%s.ctx%d.chunks%d", p.text(), p.ctx(), p.chunks());
            Double base = registry.model(task.tenantId(), task.modelId()).metrics().get(key);
            if (base == null) {
                base = engine.perplexity(source, source, text, p.ctx(), p.chunks());
                registry.modelMetric(task.tenantId(), task.modelId(), key, base);
            }
            context.progress(++step, steps, "perplexity of the source model", 0);
            double quantized = engine.perplexity(artifactDir, source, text, p.ctx(), p.chunks());
            context.progress(++step, steps, "perplexity of the artifact", 0);
            metrics.put("perplexity_base", base);
            metrics.put("perplexity", quantized);
            metrics.put("perplexity_delta", quantized - base);
        }
        if (spec.kld() != null) {
            EvalSpec.Kld k = spec.kld();
            String textId = k.textOr(spec.perplexity());
            int ctx = k.ctxOr(spec.perplexity()), chunks = k.chunksOr(spec.perplexity());
            Path text = evaluationText(textId);
            Path base = baseLogits(task, source, textId, text, ctx, chunks);
            context.progress(++step, steps, "base logits of the source model", 0);
            metrics.putAll(engine.kld(registry.fetchArtifact(task.tenantId(), task.artifactId()), source, base));
            context.progress(++step, steps, "KL divergence of the artifact", 0);
        }
        if (spec.multipleChoice() != null) {
            EvalSpec.MultipleChoice mc = spec.multipleChoice();
            metrics.putAll(engine.multipleChoice(registry.fetchArtifact(task.tenantId(), task.artifactId()), source, evaluationText(mc.tasks()), mc.limit()));
            context.progress(++step, steps, "multiple choice", 0);
        }
        if (spec.capacity() != null) {
            EvalSpec.Capacity c = spec.capacity();
            for (EvaluationEngine.CapacityRow r : engine.capacity(source, artifact.totalBytes(), c.gpus(), c.ctx(), c.kvDtype(), servingPrecision(artifact))) {
                String prefix = "capacity." + r.gpu() + ".";
                metrics.put(prefix + "kv_bytes_per_token", r.kvBytesPerToken());
                metrics.put(prefix + "max_tokens", (double) r.maxTokens());
                metrics.put(prefix + "max_sequences_ctx" + c.ctx(), (double) r.maxSequences());
                metrics.put(prefix + "max_sequences_paged_ctx" + c.ctx(), (double) r.maxSequencesPaged());
                metrics.put(prefix + "optimal_batch", r.optimalBatch());
                metrics.put(prefix + "decode_tokens_per_s", r.decodeTokensPerSecond());
            }
            context.progress(++step, steps, "capacity", 0);
        }
        registry.artifactMetrics(task.artifactId(), metrics);
        return new Outcome(task.artifactId(), metrics, 0);
    }

    /**
     * The source model's base logits file for the text, ctx and chunks: the registry's blob when it has one, else
     * computed here and stored there. Workers on other machines may compute the same blob at the same time; the last
     * put wins and both files hold the same model's logits.
     */
    private Path baseLogits(Message.TaskAssigned task, Path source, String textId, Path text, int ctx, int chunks) throws Exception {
        String blob = String.format(Locale.ROOT, "kld-base.%s.ctx%d.chunks%d", textId, ctx, chunks);
        synchronized (baseLocks.computeIfAbsent(task.tenantId() + "/" + task.modelId() + "/" + blob, x -> new Object())) {
            Path stored = registry.fetchModelBlob(task.tenantId(), task.modelId(), blob);
            if (stored != null) return stored;
            Path scratch = Files.createTempDirectory("fw-kld-base");
            try {
                Path computed = scratch.resolve(blob);
                engine.kldBase(source, source, text, ctx, chunks, computed);
                basesComputed.increment();
                return registry.putModelBlob(task.tenantId(), task.modelId(), blob, computed);
            } finally {
                WorkDirs.deleteTree(scratch);
            }
        }
    }

    private Path evaluationText(String id) throws TaskFailure {
        Path text = textsDir.resolve(id + ".txt");
        if (!Files.isRegularFile(text)) throw new TaskFailure("evaluation text '" + id + "' not found in " + textsDir, false);
        return text;
    }
}
