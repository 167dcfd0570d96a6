package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.formats.TensorSource;

import java.nio.file.Path;
import java.util.function.UnaryOperator;

/** Opens a model path (Hugging Face folder or .gguf file) as a {@link LoadedModel}. */
public final class ModelLoader {
    private ModelLoader() {
    }

    public static LoadedModel open(Path path, Path tokenizerDir, Parallel pool) {
        return open(path, tokenizerDir, pool, UnaryOperator.identity());
    }

    /** As {@link #open(Path, Path, Parallel)}, reading the weights through {@code weights} (e.g. a {@link RequantizedSource}). */
    public static LoadedModel open(Path path, Path tokenizerDir, Parallel pool, UnaryOperator<TensorSource> weights) {
        throw new UnsupportedOperationException("model loading needs the formats readers (not merged yet): " + path);
    }
}
