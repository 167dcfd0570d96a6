package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.core.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** A bitsandbytes LLM.int8() linear: int8 weight [out, in] and fp32 row scales SCB; w = CB · SCB / 127. */
public final class Int8Matrix implements WeightMatrix {
    private final MemorySegment cb;
    private final int rows, cols;
    private final float[] scb;

    public Int8Matrix(Tensor weight, Tensor scb) {
        this.cb = weight.data();
        this.rows = (int) weight.shape()[0];
        this.cols = (int) weight.shape()[1];
        this.scb = new float[rows];
        ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) this.scb[r] = scb.data().get(f, 4L * r);
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
        return "LLM.int8";
    }

    @Override
    public void decodeRow(int r, float[] dst, int off) {
        long base = (long) r * cols;
        float s = scb[r];
        for (int i = 0; i < cols; i++) dst[off + i] = cb.get(ValueLayout.JAVA_BYTE, base + i) * s / 127f;
    }

    @Override
    public long storageBytes() {
        return (long) rows * cols + 4L * rows;
    }
}
