package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Parallel;
import java.nio.file.Path;

final class TestModels {
    static final Parallel POOL = new Parallel(2);

    /** A model (HF folder or .gguf) through the production loader, on a shared 2-thread pool. */
    static LlamaModel loadHf(Path path) {
        return ModelLoader.open(path, null, POOL).model();
    }
}
