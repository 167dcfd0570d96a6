package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.formats.Tensor;
import dev.featherweight.kernels.quant.GgmlType;

/**
 * Q4_K: 256 weights = fp16 d, fp16 dmin, scales[12] (8 six-bit scales + 8 six-bit mins, get_scale_min_k4),
 * qs[128] (per 64 weights: 32 bytes, low nibbles first 32, high nibbles next 32); w = d·sc·q − dmin·m.
 */
public final class Q4_KMatrix extends BlockMatrix {
    public Q4_KMatrix(Tensor t) {
        super(t, GgmlType.Q4_K);
    }

    /** get_scale_min_k4: returns scale in the low byte, min in the second byte. */
    static int scaleMin(byte[] b, int so, int j) {
        int sc, m;
        if (j < 4) {
            sc = u8(b, so + j) & 63;
            m = u8(b, so + j + 4) & 63;
        } else {
            sc = (u8(b, so + j + 4) & 0xF) | ((u8(b, so + j - 4) >> 6) << 4);
            m = (u8(b, so + j + 4) >> 4) | ((u8(b, so + j) >> 6) << 4);
        }
        return sc | m << 8;
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        float d = f16(b, o), min = f16(b, o + 2);
        int so = o + 4, q = o + 16, out = yo;
        for (int is = 0; is < 8; is += 2, q += 32) {
            int sm1 = scaleMin(b, so, is), sm2 = scaleMin(b, so, is + 1);
            float d1 = d * (sm1 & 0xFF), m1 = min * (sm1 >> 8);
            float d2 = d * (sm2 & 0xFF), m2 = min * (sm2 >> 8);
            for (int l = 0; l < 32; l++) y[out++] = d1 * (u8(b, q + l) & 0xF) - m1;
            for (int l = 0; l < 32; l++) y[out++] = d2 * (u8(b, q + l) >> 4) - m2;
        }
    }
}
