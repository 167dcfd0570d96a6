package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;

/** Q4_1: 32 weights = fp16 d, fp16 m, 16 bytes of nibbles; w = d·q + m. */
public final class Q4_1Matrix extends BlockMatrix {
    public Q4_1Matrix(Tensor t) {
        super(t, GgmlType.Q4_1);
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        float d = f16(b, o), m = f16(b, o + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(b, o + 4 + j);
            y[yo + j] = (q & 0xF) * d + m;
            y[yo + j + 16] = (q >> 4) * d + m;
        }
    }
}
