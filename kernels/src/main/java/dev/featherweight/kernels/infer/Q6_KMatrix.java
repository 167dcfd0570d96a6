package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Q6_K: 256 weights = ql[128] (low 4 bits), qh[64] (high 2 bits), int8 scales[16], fp16 d; w = d·sc·(q − 32). */
public final class Q6_KMatrix extends BlockMatrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    public Q6_KMatrix(Tensor t) {
        super(t, GgmlType.Q6_K);
    }

    /** Vectorized row decode: 16 weights share one scale, so each 16-lane group is (d·sc) · q. */
    @Override
    public void decodeRow(int row, float[] dst, int off) {
        byte[] b = rowBytes(row);
        int nb = cols / 256;
        for (int blk = 0; blk < nb; blk++) {
            int o = blk * 210, yo = off + blk * 256;
            float d = f16(b, o + 208);
            int ql = o, qh = o + 128, sc = o + 192;
            for (int half = 0; half < 2; half++, yo += 128, ql += 64, qh += 32, sc += 8) {
                for (int g = 0; g < 2; g++) {
                    int l = 16 * g;
                    ByteVector lo = ByteVector.fromArray(B, b, ql + l), lo2 = ByteVector.fromArray(B, b, ql + l + 32);
                    ByteVector h = ByteVector.fromArray(B, b, qh + l);
                    ByteVector q1 = lo.and((byte) 0xF).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q2 = lo2.and((byte) 0xF).or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q3 = lo.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).or(h.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q4 = lo2.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).or(h.lanewise(VectorOperators.LSHR, 6).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ((FloatVector) q1.convertShape(VectorOperators.B2F, F, 0)).mul(d * b[sc + g]).intoArray(dst, yo + l);
                    ((FloatVector) q2.convertShape(VectorOperators.B2F, F, 0)).mul(d * b[sc + g + 2]).intoArray(dst, yo + l + 32);
                    ((FloatVector) q3.convertShape(VectorOperators.B2F, F, 0)).mul(d * b[sc + g + 4]).intoArray(dst, yo + l + 64);
                    ((FloatVector) q4.convertShape(VectorOperators.B2F, F, 0)).mul(d * b[sc + g + 6]).intoArray(dst, yo + l + 96);
                }
            }
        }
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
