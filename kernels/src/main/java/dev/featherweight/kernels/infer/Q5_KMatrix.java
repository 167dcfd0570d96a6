package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.formats.Tensor;
import dev.featherweight.kernels.quant.GgmlType;

/** Q5_K: as Q4_K plus qh[32] holding the 5th bit (bit 2c / 2c+1 for 64-weight chunk c); w = d·sc·q − dmin·m. */
public final class Q5_KMatrix extends BlockMatrix {
    public Q5_KMatrix(Tensor t) {
        super(t, GgmlType.Q5_K);
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        float d = f16(b, o), min = f16(b, o + 2);
        int so = o + 4, qh = o + 16, ql = o + 48, out = yo, u1 = 1, u2 = 2;
        for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            int sm1 = Q4_KMatrix.scaleMin(b, so, is), sm2 = Q4_KMatrix.scaleMin(b, so, is + 1);
            float d1 = d * (sm1 & 0xFF), m1 = min * (sm1 >> 8);
            float d2 = d * (sm2 & 0xFF), m2 = min * (sm2 >> 8);
            for (int l = 0; l < 32; l++) y[out++] = d1 * ((u8(b, ql + l) & 0xF) + ((u8(b, qh + l) & u1) != 0 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) y[out++] = d2 * ((u8(b, ql + l) >> 4) + ((u8(b, qh + l) & u2) != 0 ? 16 : 0)) - m2;
        }
    }
}
