package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.formats.Tensor;
import dev.featherweight.kernels.quant.GgmlType;

/** Q8_0: 32 weights = fp16 d, then 32 int8 q; w = d·q. */
public final class Q8_0Matrix extends BlockMatrix {
    public Q8_0Matrix(Tensor t) {
        super(t, GgmlType.Q8_0);
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        float d = f16(b, o);
        for (int j = 0; j < 32; j++) y[yo + j] = d * b[o + 2 + j];
    }
}
