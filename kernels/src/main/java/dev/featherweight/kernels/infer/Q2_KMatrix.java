package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;

/**
 * Q2_K: 256 weights = scales[16] (low nibble scale, high nibble min, per 16 weights), qs[64] (2 bits each),
 * fp16 d, fp16 dmin; w = d·sc·q − dmin·m.
 */
public final class Q2_KMatrix extends BlockMatrix {
    public Q2_KMatrix(Tensor t) {
        super(t, GgmlType.Q2_K);
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        float d = f16(b, o + 80), min = f16(b, o + 82);
        int qs = o + 16, is = 0, out = yo;
        for (int half = 0; half < 2; half++, qs += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; part++) {
                    int sc = u8(b, o + is++);
                    float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                    for (int l = 0; l < 16; l++) y[out++] = dl * ((u8(b, qs + part * 16 + l) >> shift) & 3) - ml;
                }
            }
        }
    }
}
