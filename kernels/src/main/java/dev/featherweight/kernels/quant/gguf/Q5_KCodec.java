package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.VectorWidth;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * Q5_K ({@code block_q5_K}, 256 weights in 8 sub-blocks of 32, 176 bytes = 5.5 bpw): fp16 {@code d},
 * fp16 {@code dmin}, {@code scales[12]} ({@link KScales}), {@code qh[32]} (fifth bits: chunk c sets bit 2c
 * of qh[l] for weight 64c+l and bit 2c+1 for 64c+l+32), {@code qs[128]} low nibbles as Q4_K.
 * Quantization is Q4_K's with nmax 31: the reference search uses make_qkx2_quants(32, 31, rmin -0.5,
 * rdelta 0.1, 15 steps); the imatrix path is identical to Q4_K's but for nmax.
 */
final class Q5_KCodec extends BlockCodec {
    static final int QK_K = GgmlType.Q5_K.blockSize;
    static final int BLOCK_BYTES = GgmlType.Q5_K.typeSize;
    private static final int D = Q4_KCodec.D, DMIN = Q4_KCodec.DMIN, SCALES = Q4_KCodec.SCALES, QH = 16, QS = 48;
    private static final VectorSpecies<Float> F = VectorWidth.FLOATS;
    private static final VectorSpecies<Byte> B = VectorWidth.BYTES;
    private static final int L = F.length(), BL = B.length(), PARTS = VectorWidth.BYTE_PARTS;

    Q5_KCodec() {
        super(GgmlType.Q5_K, D, DMIN);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        byte[] L = new byte[QK_K];
        if (qw == null) Q4_KCodec.quantizeRefScales(x, xo, n, y, L, 31, -0.5f, 0.1f, 15, BLOCK_BYTES, Q5_KCodec::finishBlock);
        else Q4_KCodec.quantizeImplScales(x, xo, n, y, qw, L, 31, true, BLOCK_BYTES, Q5_KCodec::finishBlock);
    }

    private static void finishBlock(float[] x, int bx, byte[] y, int by, byte[] L) {
        Q4_KCodec.requantize(x, bx, y, by, L, 31);
        for (int k = 0; k < QK_K / 8; k++) y[by + QH + k] = 0;
        int m1 = 1, m2 = 2;
        for (int nn = 0, ql = by + QS; nn < QK_K; nn += 64, ql += 32) {
            for (int j = 0; j < 32; ++j) {
                int l1 = L[nn + j];
                if (l1 > 15) {
                    l1 -= 16;
                    y[by + QH + j] |= (byte) m1;
                }
                int l2 = L[nn + j + 32];
                if (l2 > 15) {
                    l2 -= 16;
                    y[by + QH + j] |= (byte) m2;
                }
                y[ql + j] = (byte) (l1 | (l2 << 4));
            }
            m1 <<= 2;
            m2 <<= 2;
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        int out = xo;
        for (int i = 0, nb = n / QK_K; i < nb; i++) {
            int by = i * BLOCK_BYTES;
            float d = getFp16(y, by + D);
            float min = getFp16(y, by + DMIN);
            int ql = by + QS;
            int is = 0;
            int u1 = 1, u2 = 2;
            for (int j = 0; j < QK_K; j += 64) {
                float d1 = d * KScales.scale(y, by + SCALES, is), m1 = min * KScales.min(y, by + SCALES, is);
                float d2 = d * KScales.scale(y, by + SCALES, is + 1), m2 = min * KScales.min(y, by + SCALES, is + 1);
                for (int l = 0; l < 32; ++l) {
                    x[out++] = d1 * ((y[ql + l] & 0xF) + ((y[by + QH + l] & u1) != 0 ? 16 : 0)) - m1;
                }
                for (int l = 0; l < 32; ++l) {
                    x[out++] = d2 * (((y[ql + l] & 0xFF) >> 4) + ((y[by + QH + l] & u2) != 0 ? 16 : 0)) - m2;
                }
                ql += 32;
                is += 2;
                u1 <<= 2;
                u2 <<= 2;
            }
        }
    }

    /** Vectorized row decode, as Q4_K with the 5th bit from qh. */
    @Override
    public void decodeRow(MemorySegment src, long srcOff, float[] dst, int off, int n) {
        byte[] b = rowBuffer(src, srcOff, n);
        for (int blk = 0, nb = n / QK_K; blk < nb; blk++) {
            int o = blk * BLOCK_BYTES, yo = off + blk * QK_K;
            float d = getFp16(b, o + D), min = getFp16(b, o + DMIN);
            int so = o + SCALES, qh = o + QH, ql = o + QS;
            for (int is = 0, shift = 0; is < 8; is += 2, ql += 32, yo += 64, shift += 2) {
                FloatVector d1 = FloatVector.broadcast(F, d * KScales.scale(b, so, is)), m1 = FloatVector.broadcast(F, min * KScales.min(b, so, is));
                FloatVector d2 = FloatVector.broadcast(F, d * KScales.scale(b, so, is + 1)), m2 = FloatVector.broadcast(F, min * KScales.min(b, so, is + 1));
                for (int h = 0; h < 32; h += BL) {
                    ByteVector v = ByteVector.fromArray(B, b, ql + h), hb = ByteVector.fromArray(B, b, qh + h);
                    ByteVector lo = v.and((byte) 0xF).or(hb.lanewise(VectorOperators.LSHR, shift).and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                    ByteVector hi = v.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).or(hb.lanewise(VectorOperators.LSHR, shift + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                    for (int p = 0; p < PARTS; p++) {
                        ((FloatVector) lo.convertShape(VectorOperators.B2F, F, p)).mul(d1).sub(m1).intoArray(dst, yo + h + p * L);
                        ((FloatVector) hi.convertShape(VectorOperators.B2F, F, p)).mul(d2).sub(m2).intoArray(dst, yo + 32 + h + p * L);
                    }
                }
            }
        }
    }
}
