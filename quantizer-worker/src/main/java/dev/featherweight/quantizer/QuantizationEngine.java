package dev.featherweight.quantizer;

import dev.featherweight.catalog.ResolvedRecipe;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The port through which the worker runs the kernels. {@code outDir} survives a failed attempt (it is
 * keyed by task id): an engine may keep per-block results there and skip finished blocks when the task
 * is retried (resume). Files are written to temporary names and renamed when complete.
 */
public interface QuantizationEngine {

    interface Progress {
        /** Block {@code done} of {@code total} finished (a transformer block, or the non-block tensors). */
        void block(int done, int total, String module) throws Exception;
    }

    /** The artifact's files, relative to outDir, and how many blocks were resumed rather than recomputed. */
    record Result(List<String> files, int resumedBlocks) {}

    /** @param recipe resolved by the catalogue against the model (every parameter present) */
    boolean supports(ResolvedRecipe recipe);

    Result quantize(Path modelDir, ResolvedRecipe recipe, Path outDir, Progress progress) throws Exception;

    /** Name and version of the kernels that made an artifact (lineage). */
    String version();
}
