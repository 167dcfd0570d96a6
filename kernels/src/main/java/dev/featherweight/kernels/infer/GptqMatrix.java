package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.core.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A GPTQ linear as transformers/vLLM load it (vLLM model_executor/layers/quantization/gptq.py
 * {@code GPTQLinearMethod.create_weights}): qweight int32 [in·b/32, out] packed along the input dimension as a
 * little-endian bit stream, qzeros int32 [groups, out·b/32], scales fp16 [groups, out], g_idx int32 [in].
 * w[o][i] = scale[g][o] · (q − zero[g][o]) with g = g_idx[i]; the classic format stores zero − 1. The codes stay
 * in the mapping; scales, zeros and g_idx (1/groupSize of the weights) are unpacked once.
 */
public final class GptqMatrix implements WeightMatrix {
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final MemorySegment qweight;
    private final int rows, cols, bits;
    private final float[] scales;   // [g · rows + o]
    private final int[] zeros;      // [g · rows + o]
    private final int[] gIdx;

    public GptqMatrix(Tensor qweight, Tensor qzeros, Tensor scales, Tensor gIdx, int bits, boolean v2) {
        this.bits = bits;
        this.rows = (int) qweight.shape()[1];
        this.cols = (int) (qweight.shape()[0] * 32 / bits);
        this.qweight = qweight.data();
        int groups = (int) scales.shape()[0];
        this.scales = new float[groups * rows];
        for (int i = 0; i < this.scales.length; i++) this.scales[i] = Float.float16ToFloat(scales.data().get(BlockMatrix.LE_SHORT, 2L * i));
        int per = rows * bits / 32;
        int[] zw = new int[groups * per];
        for (int i = 0; i < zw.length; i++) zw[i] = qzeros.data().get(LE_INT, 4L * i);
        this.zeros = dev.featherweight.kernels.quant.Packing.gptqUnpackQzeros(zw, groups, rows, bits, v2);
        this.gIdx = new int[cols];
        if (gIdx != null) {
            for (int i = 0; i < cols; i++) this.gIdx[i] = gIdx.data().get(LE_INT, 4L * i);
        } else {
            int gs = cols / groups;
            for (int i = 0; i < cols; i++) this.gIdx[i] = i / gs;
        }
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
        return "GPTQ-" + bits + "bit";
    }

    @Override
    public void decodeRow(int o, float[] dst, int off) {
        int mask = (1 << bits) - 1;
        long stride = 4L * rows;
        for (int i = 0; i < cols; i++) {
            long bit = (long) i * bits;
            int word = (int) (bit >>> 5), shift = (int) (bit & 31);
            int v = qweight.get(LE_INT, word * stride + 4L * o) >>> shift;
            if (shift + bits > 32) v |= qweight.get(LE_INT, (word + 1) * stride + 4L * o) << (32 - shift);
            int g = gIdx[i];
            dst[off + i] = scales[g * rows + o] * ((v & mask) - zeros[g * rows + o]);
        }
    }

    @Override
    public long storageBytes() {
        return (long) rows * cols * bits / 8 + scales.length * 2L + zeros.length * (long) bits / 8 + 4L * cols;
    }
}
