package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.formats.Tensor;
import dev.featherweight.kernels.quant.GgmlType;

/** Q6_K: 256 weights = ql[128] (low 4 bits), qh[64] (high 2 bits), int8 scales[16], fp16 d; w = d·sc·(q − 32). */
public final class Q6_KMatrix extends BlockMatrix {
    public Q6_KMatrix(Tensor t) {
        super(t, GgmlType.Q6_K);
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        float d = f16(b, o + 208);
        int ql = o, qh = o + 128, sc = o + 192;
        for (int half = 0; half < 2; half++, yo += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16, h = u8(b, qh + l);
                int q1 = ((u8(b, ql + l) & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((u8(b, ql + l + 32) & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                int q3 = ((u8(b, ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32;
                int q4 = ((u8(b, ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32;
                y[yo + l] = d * b[sc + is] * q1;
                y[yo + l + 32] = d * b[sc + is + 2] * q2;
                y[yo + l + 64] = d * b[sc + is + 4] * q3;
                y[yo + l + 96] = d * b[sc + is + 6] * q4;
            }
        }
    }
}
