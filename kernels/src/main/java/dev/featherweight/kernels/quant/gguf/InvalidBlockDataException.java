package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

/**
 * Quantized data that llama.cpp's {@code ggml_validate_row_data} would reject (llama-quantize aborts on it):
 * a non-finite fp16/f32 scale or value, or a byte count that is not whole blocks. Names the type, the
 * block and the problem; callers that know the file and tensor wrap it in a FormatException.
 */
public class InvalidBlockDataException extends RuntimeException {
    private final GgmlType type;
    private final long block;

    public InvalidBlockDataException(GgmlType type, long block, String problem) {
        super(type + (block >= 0 ? " block " + block : "") + ": " + problem);
        this.type = type;
        this.block = block;
    }

    public GgmlType type() {
        return type;
    }

    /** Index of the offending block (element for F16/BF16/F32) from the start of the checked data, or -1. */
    public long block() {
        return block;
    }
}
