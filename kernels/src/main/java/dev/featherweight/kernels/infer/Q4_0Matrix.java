package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.formats.Tensor;
import dev.featherweight.kernels.quant.GgmlType;

/** Q4_0: 32 weights = fp16 d, 16 bytes of nibbles (byte j: q[j] low, q[j+16] high); w = d·(q − 8). */
public final class Q4_0Matrix extends BlockMatrix {
    public Q4_0Matrix(Tensor t) {
        super(t, GgmlType.Q4_0);
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        float d = f16(b, o);
        for (int j = 0; j < 16; j++) {
            int q = u8(b, o + 2 + j);
            y[yo + j] = ((q & 0xF) - 8) * d;
            y[yo + j + 16] = ((q >> 4) - 8) * d;
        }
    }
}
