package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;

/** IQ4_NL: 32 weights = fp16 d, 16 bytes of 4-bit indices into a non-linear table; w = d·table[idx]. */
public final class IQ4_NLMatrix extends BlockMatrix {
    static final byte[] VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    public IQ4_NLMatrix(Tensor t) {
        super(t, GgmlType.IQ4_NL);
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        float d = f16(b, o);
        for (int j = 0; j < 16; j++) {
            int q = u8(b, o + 2 + j);
            y[yo + j] = d * VALUES[q & 0xF];
            y[yo + j + 16] = d * VALUES[q >> 4];
        }
    }
}
