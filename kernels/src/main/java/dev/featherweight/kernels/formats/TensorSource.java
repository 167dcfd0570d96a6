package dev.featherweight.kernels.formats;

import dev.featherweight.kernels.core.Tensor;
import java.nio.file.Path;
import java.util.List;

/**
 * A set of named tensors backed by memory-mapped files: a safetensors file, a sharded safetensors
 * model, or a GGUF file. Closing it unmaps the files; tensors obtained from it must not be used after.
 */
public interface TensorSource extends AutoCloseable {
    /** The file or folder this source reads. */
    Path path();

    /** Tensor names in file order. */
    List<String> names();

    boolean has(String name);

    /** The tensor, or a {@link FormatException} naming the file when it is absent. */
    Tensor tensor(String name);

    @Override
    void close();
}
