package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.quant.Packing;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * An AutoAWQ gemm linear (vLLM model_executor/layers/quantization/awq.py {@code AWQLinearMethod.create_weights}):
 * qweight int32 [in, out/8] and qzeros int32 [groups, out/8] packed along the output dimension in AWQ_ORDER,
 * scales fp16 [groups, out]; w[o][i] = scale · (q − zero) with the zero stored as is.
 */
public final class AwqMatrix implements WeightMatrix {
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int[] NIBBLE_OF = new int[8];

    static {
        for (int k = 0; k < 8; k++) NIBBLE_OF[Packing.AWQ_ORDER[k]] = k;
    }

    private final MemorySegment qweight;
    private final int rows, cols, groupSize;
    private final float[] scales;
    private final int[] zeros;

    public AwqMatrix(Tensor qweight, Tensor qzeros, Tensor scales) {
        this.cols = (int) qweight.shape()[0];
        this.rows = (int) qweight.shape()[1] * 8;
        this.qweight = qweight.data();
        int groups = (int) scales.shape()[0];
        this.groupSize = cols / groups;
        this.scales = new float[groups * rows];
        for (int i = 0; i < this.scales.length; i++) this.scales[i] = Float.float16ToFloat(scales.data().get(BlockMatrix.LE_SHORT, 2L * i));
        int[] zw = new int[groups * rows / 8];
        for (int i = 0; i < zw.length; i++) zw[i] = qzeros.data().get(LE_INT, 4L * i);
        this.zeros = Packing.awqUnpack(zw, groups, rows);
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
        return "AWQ-4bit";
    }

    @Override
    public void decodeRow(int o, float[] dst, int off) {
        int per = rows / 8, shift = 4 * NIBBLE_OF[o & 7];
        long col = 4L * (o >>> 3);
        for (int i = 0; i < cols; i++) {
            int q = (qweight.get(LE_INT, 4L * i * per + col) >>> shift) & 0xF;
            int g = i / groupSize;
            dst[off + i] = scales[g * rows + o] * (q - zeros[g * rows + o]);
        }
    }

    @Override
    public long storageBytes() {
        return (long) rows * cols / 2 + scales.length * 2L + zeros.length / 2;
    }
}
