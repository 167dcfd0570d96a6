package dev.featherweight.kernels.formats;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What {@code fw inspect} reports about a model, as data: the CLI prints any summary the same way, so a
 * new format (GPTQ, AWQ, bitsandbytes folders) adds a summary, not a code path in the command.
 *
 * @param format         "gguf", "safetensors"; a quantized checkpoint may say e.g. "safetensors+gptq"
 * @param architecture   general.architecture or config.json's model_type; null when the files do not say
 * @param parameterCount weights the tensors hold (sum of their element counts)
 * @param tensorBytes    bytes of tensor data
 * @param bytesOnDisk    bytes of every file that makes up the model (the whole folder for Hugging Face)
 * @param files          the files read
 * @param details        further facts in display order (GGUF version, alignment, file type, quantization …)
 */
public record ModelSummary(Path path, String format, String architecture, long parameterCount, long tensorBytes,
                           long bytesOnDisk, List<Path> files, Map<String, Object> details, List<TensorEntry> tensors) {

    /** One tensor: its stored dtype name (GGUF type or safetensors dtype), shape row-major, bytes. */
    public record TensorEntry(String name, String dtype, long[] shape, long bytes) {
        public TensorEntry {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorEntry t && t.name.equals(name) && t.dtype.equals(dtype) && Arrays.equals(t.shape, shape) && t.bytes == bytes;
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return name + " " + dtype + " " + Arrays.toString(shape) + " " + bytes;
        }
    }
}
