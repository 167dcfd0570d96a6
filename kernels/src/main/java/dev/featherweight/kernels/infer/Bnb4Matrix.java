package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.core.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A bitsandbytes 4-bit linear (NF4 or FP4) as transformers saves it: packed uint8 codes of the flattened
 * [out, in] weight (first element in the high nibble), one absmax per 64 values and the 16-value quant_map.
 * The absmax (dequantized from its 8-bit codes when double-quantized) is unpacked once; codes stay mapped.
 */
public final class Bnb4Matrix implements WeightMatrix {
    private final MemorySegment packed;
    private final int rows, cols, blocksize;
    private final float[] absmax, code;
    private final String type;

    public Bnb4Matrix(Tensor weight, int rows, int cols, int blocksize, float[] absmax, float[] code, String type) {
        this.packed = weight.data();
        this.rows = rows;
        this.cols = cols;
        this.blocksize = blocksize;
        this.absmax = absmax;
        this.code = code;
        this.type = type;
        if (packed.byteSize() < ((long) rows * cols + 1) / 2) throw new IllegalArgumentException(weight.name() + ": too few bytes for " + rows + "×" + cols);
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public String format() {
        return type.toUpperCase(java.util.Locale.ROOT);
    }

    @Override
    public void decodeRow(int r, float[] dst, int off) {
        long base = (long) r * cols;
        for (int i = 0; i < cols; i++) {
            long idx = base + i;
            int b = packed.get(ValueLayout.JAVA_BYTE, idx >>> 1) & 0xFF;
            int q = (idx & 1) == 0 ? b >>> 4 : b & 0xF;
            dst[off + i] = code[q] * absmax[(int) (idx / blocksize)];
        }
    }

    @Override
    public long storageBytes() {
        return ((long) rows * cols + 1) / 2 + 4L * absmax.length;
    }
}
