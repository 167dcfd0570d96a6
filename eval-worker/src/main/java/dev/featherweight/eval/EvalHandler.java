package dev.featherweight.eval;

import dev.featherweight.contracts.EvalSpec;
import dev.featherweight.contracts.Message;
import dev.featherweight.contracts.registry.Artifact;
import dev.featherweight.worker.RegistryClient;
import dev.featherweight.worker.TaskContext;
import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.worker.TaskFailure;
import dev.featherweight.worker.TaskHandler;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One evaluation task: perplexity of the source model (cached in the registry per model, text, ctx and
 * chunks) and of the artifact, their difference, and the capacity table; metrics go to the artifact.
 */
public class EvalHandler implements TaskHandler {
    private final EvaluationEngine engine;
    private final RegistryClient registry;
    private final Path textsDir;

    public EvalHandler(EvaluationEngine engine, RegistryClient registry, Path textsDir) {
        this.engine = engine;
        this.registry = registry;
        this.textsDir = textsDir;
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

    private Outcome evaluate(Message.TaskAssigned task, TaskContext context) throws Exception {
        EvalSpec spec = task.eval();
        Artifact artifact = registry.artifact(task.tenantId(), task.artifactId());
        Path source = registry.fetchModel(task.tenantId(), task.modelId());
        Map<String, Double> metrics = new LinkedHashMap<>();
        int steps = (spec.perplexity() == null ? 0 : 2) + (spec.capacity() == null ? 0 : 1), step = 0;
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
        if (spec.capacity() != null) {
            EvalSpec.Capacity c = spec.capacity();
            for (EvaluationEngine.CapacityRow r : engine.capacity(source, artifact.totalBytes(), c.gpus(), c.ctx(), c.kvDtype())) {
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
}
