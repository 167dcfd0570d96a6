package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;

/** Q5_0: 32 weights = fp16 d, u32 qh (5th bits), 16 bytes of low nibbles; w = d·(q − 16). */
public final class Q5_0Matrix extends BlockMatrix {
    public Q5_0Matrix(Tensor t) {
        super(t, GgmlType.Q5_0);
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        float d = f16(b, o);
        int qh = u8(b, o + 2) | u8(b, o + 3) << 8 | u8(b, o + 4) << 16 | u8(b, o + 5) << 24;
        for (int j = 0; j < 16; j++) {
            int q = u8(b, o + 6 + j);
            int h0 = ((qh >>> j) << 4) & 0x10, h1 = (qh >>> (j + 12)) & 0x10;
            y[yo + j] = (((q & 0xF) | h0) - 16) * d;
            y[yo + j + 16] = (((q >> 4) | h1) - 16) * d;
        }
    }
}
