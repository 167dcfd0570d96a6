package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;

/**
 * Q3_K: 256 weights = hmask[32] (3rd bit), qs[64] (low 2 bits), scales[12] (16 six-bit scales, +32 offset),
 * fp16 d; w = d·(s − 32)·(q − 4·(high bit clear)).
 */
public final class Q3_KMatrix extends BlockMatrix {
    public Q3_KMatrix(Tensor t) {
        super(t, GgmlType.Q3_K);
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        float dAll = f16(b, o + 108);
        int[] sc = new int[16];
        int so = o + 96;
        for (int j = 0; j < 16; j++) {
            int lo = j < 8 ? u8(b, so + j) & 0xF : u8(b, so + j - 8) >> 4;
            int hi = (u8(b, so + 8 + (j & 3)) >> (2 * (j >> 2))) & 3;
            sc[j] = (lo | hi << 4) - 32;
        }
        int qs = o + 32, hm = o, is = 0, out = yo, m = 1;
        for (int half = 0; half < 2; half++, qs += 32) {
            for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                for (int part = 0; part < 2; part++) {
                    float dl = dAll * sc[is++];
                    for (int l = 0; l < 16; l++) {
                        int q = (u8(b, qs + part * 16 + l) >> shift) & 3;
                        if ((u8(b, hm + part * 16 + l) & m) == 0) q -= 4;
                        y[out++] = dl * q;
                    }
                }
            }
        }
    }
}
