package dev.featherweight.kernels.formats.gguf;

import dev.featherweight.kernels.core.GgmlType;

/**
 * A tensor-info record of a GGUF file: name, ggml type, dimensions in ggml order (ne[0] = row length)
 * and the offset of its data relative to the data section.
 */
public record GgufTensorInfo(String name, GgmlType type, long[] ne, long offset) {
    public GgufTensorInfo {
        ne = ne.clone();
    }

    @Override
    public long[] ne() {
        return ne.clone();
    }

    public long elements() {
        long n = 1;
        for (long d : ne) n *= d;
        return n;
    }

    /** Bytes of the tensor data ({@code ggml_nbytes} for contiguous tensors). */
    public long bytes() {
        return elements() / type.blockSize * type.typeSize;
    }

    /** The shape in row-major (PyTorch) order: ne reversed. */
    public long[] shape() {
        long[] s = new long[ne.length];
        for (int i = 0; i < ne.length; i++) s[i] = ne[ne.length - 1 - i];
        return s;
    }
}
