package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Q4_K: 256 weights = fp16 d, fp16 dmin, scales[12] (8 six-bit scales + 8 six-bit mins, get_scale_min_k4),
 * qs[128] (per 64 weights: 32 bytes, low nibbles first 32, high nibbles next 32); w = d·sc·q − dmin·m.
 */
public final class Q4_KMatrix extends BlockMatrix {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
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

    /** Vectorized row decode: per 32-weight sub-block, 16-lane nibble vectors · (d·sc) − dmin·m. */
    @Override
    public void decodeRow(int row, float[] dst, int off) {
        byte[] b = rowBytes(row);
        int nb = cols / 256;
        for (int blk = 0; blk < nb; blk++) {
            int o = blk * 144, yo = off + blk * 256;
            float d = f16(b, o), min = f16(b, o + 2);
            int so = o + 4, q = o + 16;
            for (int is = 0; is < 8; is += 2, q += 32, yo += 64) {
                int sm1 = scaleMin(b, so, is), sm2 = scaleMin(b, so, is + 1);
                FloatVector d1 = FloatVector.broadcast(F, d * (sm1 & 0xFF)), m1 = FloatVector.broadcast(F, min * (sm1 >> 8));
                FloatVector d2 = FloatVector.broadcast(F, d * (sm2 & 0xFF)), m2 = FloatVector.broadcast(F, min * (sm2 >> 8));
                for (int h = 0; h < 32; h += 16) {
                    ByteVector v = ByteVector.fromArray(B, b, q + h);
                    ((FloatVector) v.and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).mul(d1).sub(m1).intoArray(dst, yo + h);
                    ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).convertShape(VectorOperators.B2F, F, 0)).mul(d2).sub(m2).intoArray(dst, yo + 32 + h);
                }
            }
        }
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
