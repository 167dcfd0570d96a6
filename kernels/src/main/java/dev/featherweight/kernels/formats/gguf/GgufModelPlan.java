package dev.featherweight.kernels.formats.gguf;

import dev.featherweight.kernels.core.GgmlType;

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

    /**
     * A GGUF file as the input of llama-quantize (requantization): its metadata as stored and its tensors
     * in file order. Only F32, F16 and BF16 tensors can be requantized, as llama-quantize requires.
     */
    public static GgufModelPlan of(GgufFile gguf) {
        // quantization reads the tensors again one at a time: pages checked are released, not kept resident together
        dev.featherweight.kernels.formats.ModelCheck.check(gguf, null, true, true);
        List<SourceTensor> tensors = new java.util.ArrayList<>();
        for (GgufTensorInfo info : gguf.tensorInfos()) {
            var t = gguf.tensor(info.name());
            GgmlType type = t.type();
            if (type != GgmlType.F32 && type != GgmlType.F16 && type != GgmlType.BF16) {
                throw new dev.featherweight.kernels.formats.FormatException(gguf.path(), info.name(),
                        "is " + type + "; requantizing needs F32, F16 or BF16 input (llama-quantize refuses already-quantized tensors too)");
            }
            tensors.add(new SourceTensor(info.name(), info.ne(), type, HfToGguf.rowReader(t, 0), t.data()));
        }
        return new GgufModelPlan(new LinkedHashMap<>(gguf.metadata()), tensors);
    }

    public SourceTensor tensor(String name) {
        for (SourceTensor t : tensors) if (t.name().equals(name)) return t;
        return null;
    }
}
