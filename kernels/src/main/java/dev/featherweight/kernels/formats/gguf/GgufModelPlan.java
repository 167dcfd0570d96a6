package dev.featherweight.kernels.formats.gguf;

import dev.featherweight.kernels.quant.GgmlType;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * A GGUF model before it is written: ordered metadata and tensors in GGUF naming, each able to hand out
 * its rows as floats (un-permuted, converted from the stored dtype) one row at a time, so any writer —
 * the plain converter or llama-quantize's mixes — streams the model with bounded memory.
 */
public record GgufModelPlan(LinkedHashMap<String, GgufValue> metadata, List<SourceTensor> tensors) {

    /** Reads row {@code row} of a tensor as floats into {@code dst[0 .. ne[0])}. */
    @FunctionalInterface
    public interface RowReader {
        void read(long row, float[] dst);
    }

    /**
     * @param ne     dimensions in ggml order (ne[0] = row length)
     * @param type   the stored type (F32, F16 or BF16 for sources llama-quantize accepts)
     * @param raw    the stored bytes when they can be copied unchanged (same type out), else null
     */
    public record SourceTensor(String name, long[] ne, GgmlType type, RowReader rows, MemorySegment raw) {
        public long rowLength() {
            return ne[0];
        }

        public long rowCount() {
            long n = 1;
            for (int i = 1; i < ne.length; i++) n *= ne[i];
            return n;
        }

        public long elements() {
            return rowLength() * rowCount();
        }
    }

    public SourceTensor tensor(String name) {
        for (SourceTensor t : tensors) if (t.name().equals(name)) return t;
        return null;
    }
}
