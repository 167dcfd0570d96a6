package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.TensorSource;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodec;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodecs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A view of a TensorSource whose 2-D weight matrices are converted (lazily, on first access, into off-heap
 * memory) to one GGUF type with ggufq's llama.cpp-exact quantizers — a "pure" mix: norms, biases and 1-D
 * tensors stay as they are. For benchmarks and quick what-if evaluations without writing a GGUF file.
 * The source must hold F32 weights; rows that do not fit the block size stay F32.
 */
public final class RequantizedSource implements TensorSource {
    private final TensorSource base;
    private final GgmlType type;
    private final int threads;
    private final Arena arena = Arena.ofShared();
    private final Map<String, Tensor> converted = new HashMap<>();

    public RequantizedSource(TensorSource base, GgmlType type, int threads) {
        this.base = base;
        this.type = type;
        this.threads = threads;
    }

    @Override
    public Path path() {
        return base.path();
    }

    @Override
    public List<String> names() {
        return base.names();
    }

    @Override
    public boolean has(String name) {
        return base.has(name);
    }

    @Override
    public synchronized Tensor tensor(String name) {
        Tensor t = base.tensor(name);
        if (type == GgmlType.F32 || t.dims() < 2 || t.type() != GgmlType.F32 || name.endsWith("norm.weight")
                || t.rowLength() % type.blockSize != 0) {
            return t;
        }
        return converted.computeIfAbsent(name, n -> {
            GgufBlockCodec codec = GgufBlockCodecs.of(type);
            long rows = t.rows();
            int cols = (int) t.rowLength();
            MemorySegment dst = arena.allocate(codec.rowBytes(cols) * rows, 64);
            GgufBlockCodecs.quantizeRows(codec, t.data(), 0, rows, cols, dst, 0, null, threads);
            return new Tensor(n, type, t.shape(), dst);
        });
    }

    @Override
    public void close() {
        arena.close();
        base.close();
    }
}
