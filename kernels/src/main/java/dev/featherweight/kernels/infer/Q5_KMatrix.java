package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Q5_K: as Q4_K plus qh[32] holding the 5th bit (bit 2c / 2c+1 for 64-weight chunk c); w = d·sc·q − dmin·m. */
public final class Q5_KMatrix extends BlockMatrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    public Q5_KMatrix(Tensor t) {
        super(t, GgmlType.Q5_K);
    }

    /** Vectorized row decode, as Q4_K with the 5th bit from qh. */
    @Override
    public void decodeRow(int row, float[] dst, int off) {
        byte[] b = rowBytes(row);
        int nb = cols / 256;
        for (int blk = 0; blk < nb; blk++) {
            int o = blk * 176, yo = off + blk * 256;
            float d = f16(b, o), min = f16(b, o + 2);
            int so = o + 4, qh = o + 16, ql = o + 48;
            for (int is = 0, shift = 0; is < 8; is += 2, ql += 32, yo += 64, shift += 2) {
                int sm1 = Q4_KMatrix.scaleMin(b, so, is), sm2 = Q4_KMatrix.scaleMin(b, so, is + 1);
                FloatVector d1 = FloatVector.broadcast(F, d * (sm1 & 0xFF)), m1 = FloatVector.broadcast(F, min * (sm1 >> 8));
                FloatVector d2 = FloatVector.broadcast(F, d * (sm2 & 0xFF)), m2 = FloatVector.broadcast(F, min * (sm2 >> 8));
                for (int h = 0; h < 32; h += 16) {
                    ByteVector v = ByteVector.fromArray(B, b, ql + h), hb = ByteVector.fromArray(B, b, qh + h);
                    ByteVector lo = v.and((byte) 0xF).or(hb.lanewise(VectorOperators.LSHR, shift).and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                    ByteVector hi = v.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).or(hb.lanewise(VectorOperators.LSHR, shift + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                    ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(d1).sub(m1).intoArray(dst, yo + h);
                    ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(d2).sub(m2).intoArray(dst, yo + 32 + h);
                }
            }
        }
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
