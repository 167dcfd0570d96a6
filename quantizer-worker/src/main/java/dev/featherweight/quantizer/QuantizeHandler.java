package dev.featherweight.quantizer;

import dev.featherweight.contracts.registry.Artifact;
import dev.featherweight.contracts.registry.ArtifactState;
import dev.featherweight.contracts.registry.NewArtifact;
import dev.featherweight.worker.WorkDirs;
import dev.featherweight.catalog.Catalog;
import dev.featherweight.catalog.Estimate;
import dev.featherweight.catalog.ResolvedRecipe;
import dev.featherweight.catalog.capacity.CapacityException;
import dev.featherweight.catalog.capacity.Gpu;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.capacity.Precision;
import dev.featherweight.catalog.capacity.SimulatedGpu;
import dev.featherweight.contracts.Json;
import dev.featherweight.contracts.Message;
import dev.featherweight.contracts.Recipe;
import dev.featherweight.worker.RegistryClient;
import dev.featherweight.worker.TaskContext;
import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.worker.TaskFailure;
import dev.featherweight.worker.TaskHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One quantization task: source model from the registry (local cache), the recipe resolved against the model's
 * shape and its memory budget checked on the simulated GPU — both by the engine's catalogue, never re-derived
 * here — the kernels block by block with progress, upload with sha256, artifact completed in the registry.
 */
public class QuantizeHandler implements TaskHandler {
    private static final Logger log = LoggerFactory.getLogger(QuantizeHandler.class);

    private final QuantizationEngine engine;
    private final RegistryClient registry;
    private final Gpu gpu;
    private final Path workDir;
    private final Duration blockDelay;

    /** @param blockDelay extra wall time per block (0 in production): lets tests stop a worker mid-task deterministically */
    public QuantizeHandler(QuantizationEngine engine, RegistryClient registry, Gpu gpu, Path workDir, Duration blockDelay) {
        this.engine = engine;
        this.registry = registry;
        this.gpu = gpu;
        this.workDir = workDir;
        this.blockDelay = blockDelay;
    }

    @Override
    public Outcome run(Message.TaskAssigned task, TaskContext context) throws Exception {
        try {
            return quantize(task, context);
        } catch (FormatException refused) {
            // a model (or artifact) that fails the kernels' model check fails the same way every time: its message is the
            // reason, no retry; only a failed write (disk, a busy output) may go better on another attempt
            boolean retryable = refused.kind() == FormatException.Kind.IO || refused.kind() == FormatException.Kind.OUTPUT_BUSY;
            throw new TaskFailure(refused.getMessage(), retryable, refused);
        }
    }

    private Outcome quantize(Message.TaskAssigned task, TaskContext context) throws Exception {
        Recipe recipe = task.recipe();
        // a redelivered task whose artifact is already complete: report it again, make nothing new
        Artifact done = registry.artifactOfTask(task.taskId());
        if (done != null && done.state() == ArtifactState.COMPLETE) {
            log.info("task {} already has complete artifact {}", task.taskId(), done.id());
            return new Outcome(done.id(), done.metrics(), 0);
        }
        Path model = registry.fetchModel(task.tenantId(), task.modelId());
        ModelShape shape;
        ResolvedRecipe resolved;
        try {
            shape = ModelShape.fromConfigJson(task.modelId(), Files.readAllBytes(model.resolve("config.json")));
            resolved = recipe.resolve(shape);
        } catch (CapacityException | Catalog.InvalidRecipeException e) {
            throw new TaskFailure(recipe.method() + ": " + e.getMessage(), false); // the same model and recipe fail the same way again
        } catch (java.io.IOException | RuntimeException e) { // its files were verified by sha256: the model itself is broken, every attempt would fail
            throw new TaskFailure("model " + task.modelId() + " cannot be read: " + e.getMessage(), false, e);
        }
        Estimate work = Catalog.builtIn().estimate(resolved, shape);
        SimulatedGpu device = new SimulatedGpu(gpu); // the catalogue's simulated device: memory budget and roofline accounting
        if (!device.fits(work.peakDeviceBytes()))
            throw new TaskFailure(String.format(java.util.Locale.ROOT, "%s does not fit the simulated %s: peak %s (%s) > %s device memory",
                    resolved.label(), gpu.name(), Estimate.gb(work.peakDeviceBytes()), work.describe(), Estimate.gb(gpu.memoryBytes())), false);
        if (!engine.supports(resolved))
            throw new TaskFailure(resolved.label() + ": not available in these kernels (" + engine.version() + ")", false);
        Path out = workDir.resolve(task.taskId());
        Files.createDirectories(out);
        QuantizationEngine.Result result = engine.quantize(model, resolved, out, (i, n, module) -> {
            // the work done since the last report: n reports cover all layers plus the non-block tensors
            boolean block = module.startsWith("blk.");
            int blocksDone = block ? 1 : Math.max(0, work.layers() - (n - 1));
            for (int b = 0; b < blocksDone; b++) device.account(work.flopsPerBlock(), work.bytesPerBlock(), Precision.FP16);
            if (!block) device.account(work.flopsOther(), work.bytesOther(), Precision.FP16);
            if (!blockDelay.isZero()) Thread.sleep(blockDelay);
            context.progress(i, n, module, device.simulatedSeconds());
        });
        double[] gpuSeconds = {device.simulatedSeconds()};
        context.checkStop();
        Artifact artifact = registry.createArtifact(new NewArtifact(task.tenantId(), task.taskId(), task.jobId(),
                task.modelId(), resolved.method(), resolved.nominalBits(), resolved.label(), Json.MAPPER.writeValueAsString(resolved.parameters()), engine.version()));
        Artifact stored = artifact.state() == ArtifactState.COMPLETE ? artifact : registry.upload(artifact, out, result.files());
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("artifact_bytes", (double) stored.totalBytes());
        metrics.put("peak_device_bytes", (double) work.peakDeviceBytes());
        metrics.put("gpu_seconds", gpuSeconds[0]);
        metrics.put("wall_seconds", context.wallSeconds());
        metrics.put("resumed_blocks", (double) result.resumedBlocks());
        registry.artifactMetrics(stored.id(), metrics);
        WorkDirs.deleteTree(out);
        return new Outcome(stored.id(), metrics, gpuSeconds[0]);
    }
}
