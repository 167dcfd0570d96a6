package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;

/** Q5_1: 32 weights = fp16 d, fp16 m, u32 qh, 16 bytes of low nibbles; w = d·q + m. */
public final class Q5_1Matrix extends BlockMatrix {
    public Q5_1Matrix(Tensor t) {
        super(t, GgmlType.Q5_1);
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        float d = f16(b, o), m = f16(b, o + 2);
        int qh = u8(b, o + 4) | u8(b, o + 5) << 8 | u8(b, o + 6) << 16 | u8(b, o + 7) << 24;
        for (int j = 0; j < 16; j++) {
            int q = u8(b, o + 8 + j);
            int h0 = ((qh >>> j) << 4) & 0x10, h1 = (qh >>> (j + 12)) & 0x10;
            y[yo + j] = ((q & 0xF) | h0) * d + m;
            y[yo + j + 16] = ((q >> 4) | h1) * d + m;
        }
    }
}
