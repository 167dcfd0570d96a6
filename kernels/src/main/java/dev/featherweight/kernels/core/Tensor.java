package dev.featherweight.kernels.core;


import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One stored tensor, whatever file it came from: its element or block type, its shape in row-major
 * (PyTorch) order — the last dimension is the row length, i.e. GGUF's ne[0] — and its bytes, a view of
 * the memory-mapped file (never a heap copy).
 */
public record Tensor(String name, GgmlType type, long[] shape, MemorySegment data) {
    public Tensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements (weights). */
    public long elements() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Row length: the innermost dimension (1 for a scalar). */
    public long rowLength() {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }

    /** Number of rows: the product of all dimensions but the last. */
    public long rows() {
        return shape.length == 0 ? 1 : elements() / rowLength();
    }

    public int dims() {
        return shape.length;
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && t.name.equals(name) && t.type == type && Arrays.equals(t.shape, shape)
                && t.data.byteSize() == data.byteSize() && t.data.address() == data.address();
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }
}
