package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.MatmulKernel;
import dev.featherweight.kernels.core.VectorWidth;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Q4_0 ({@code block_q4_0}: fp16 d, qs[16] with weight j in the low nibble of byte j and weight j+16 in
 * the high nibble; 4.5 bpw). x ≈ d·(q - 8).
 * <ul>
 * <li>No imatrix, {@code quantize_row_q4_0_ref}: d = (signed value of largest magnitude)/-8,
 *     q = min(15, (int8)(x/d + 8.5)) — truncation, not rounding.</li>
 * <li>Imatrix, {@code quantize_row_q4_0_impl}: weights qw·sqrt(σ² + x²) with σ² the mean square of the
 *     whole row, then {@code make_qx_quants(32, 8, …)}.</li>
 * </ul>
 */
final class Q4_0Codec extends BlockCodec {
    static final int QK = GgmlType.Q4_0.blockSize;
    static final int BLOCK_BYTES = GgmlType.Q4_0.typeSize;
    /** Byte offsets inside a block: fp16 d, then 16 bytes of nibbles. */
    static final int D = 0, QS = 2;
    private static final VectorSpecies<Float> F = VectorWidth.FLOATS;
    private static final VectorSpecies<Byte> B = VectorWidth.BYTES;
    private static final int L = F.length(), BL = B.length(), PARTS = VectorWidth.BYTE_PARTS;

    Q4_0Codec() {
        super(GgmlType.Q4_0, D);
    }

    @Override
    void quantize(float[] x, int xo, int n, byte[] y, float[] qw) {
        if (qw == null) quantizeRef(x, xo, n, y);
        else quantizeImpl(x, xo, n, y, qw);
    }

    private static void quantizeRef(float[] x, int xo, int n, byte[] y) {
        for (int ib = 0, nb = n / QK; ib < nb; ib++) {
            int bx = xo + ib * QK;
            int by = ib * BLOCK_BYTES;
            float amax = 0.0f;
            float max = 0.0f;
            for (int j = 0; j < QK; j++) {
                float v = x[bx + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putFp16(y, by, d);
            for (int j = 0; j < QK / 2; ++j) {
                float x0 = x[bx + j] * id;
                float x1 = x[bx + QK / 2 + j] * id;
                int xi0 = Math.min(15, (byte) (int) (x0 + 8.5f));
                int xi1 = Math.min(15, (byte) (int) (x1 + 8.5f));
                y[by + 2 + j] = (byte) (xi0 | (xi1 << 4));
            }
        }
    }

    private static void quantizeImpl(float[] x, int xo, int n, byte[] y, float[] qw) {
        float[] weight = new float[QK];
        byte[] L = new byte[QK];
        float sumX2 = 0;
        for (int j = 0; j < n; ++j) sumX2 += x[xo + j] * x[xo + j];
        float sigma2 = sumX2 / n;
        for (int ib = 0, nb = n / QK; ib < nb; ++ib) {
            int bx = xo + ib * QK;
            int by = ib * BLOCK_BYTES;
            for (int j = 0; j < QK; ++j) {
                weight[j] = qw[ib * QK + j] * (float) Math.sqrt(sigma2 + x[bx + j] * x[bx + j]);
            }
            float d = QuantSearch.makeQxQuants(QK, 8, x, bx, L, 0, 1, weight, 0);
            putFp16(y, by, d);
            for (int j = 0; j < 16; ++j) y[by + 2 + j] = (byte) (L[j] | (L[j + 16] << 4));
        }
    }

    @Override
    void dequantize(byte[] y, float[] x, int xo, int n) {
        for (int ib = 0, nb = n / QK; ib < nb; ib++) {
            int by = ib * BLOCK_BYTES;
            int bx = xo + ib * QK;
            float d = getFp16(y, by);
            for (int j = 0; j < QK / 2; ++j) {
                int q = y[by + 2 + j] & 0xFF;
                x[bx + j] = ((q & 0x0F) - 8) * d;
                x[bx + j + QK / 2] = ((q >> 4) - 8) * d;
            }
        }
    }

    /** Vectorized row decode for the batched kernel (exact at any width). */
    @Override
    public void decodeRow(MemorySegment src, long base, float[] dst, int off, int n) {
        for (int b = 0, nb = n / QK; b < nb; b++) {
            long o = base + (long) BLOCK_BYTES * b;
            FloatVector d = FloatVector.broadcast(F, Float.float16ToFloat(src.get(LE_SHORT, o + D)));
            for (int j = 0; j < QK / 2; j += BL) {
                ByteVector q = ByteVector.fromMemorySegment(B, src, o + QS + j, ByteOrder.LITTLE_ENDIAN);
                ByteVector lo = q.and((byte) 0xF).sub((byte) 8);
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).sub((byte) 8);
                for (int p = 0; p < PARTS; p++) {
                    ((FloatVector) lo.convertShape(VectorOperators.B2F, F, p)).mul(d).intoArray(dst, off + QK * b + j + p * L);
                    ((FloatVector) hi.convertShape(VectorOperators.B2F, F, p)).mul(d).intoArray(dst, off + QK * b + QK / 2 + j + p * L);
                }
            }
        }
    }

    /** Per block: low nibbles (weights 0–15) and high nibbles (16–31) as float vectors minus 8, times x, times d. */
    @Override
    public float dotRow(MemorySegment src, long base, float[] x, int xOff, int n) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0, nb = n / QK; b < nb; b++) {
            long o = base + (long) BLOCK_BYTES * b;
            float d = Float.float16ToFloat(src.get(LE_SHORT, o + D));
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < QK / 2; j += BL) {
                ByteVector q = ByteVector.fromMemorySegment(B, src, o + QS + j, ByteOrder.LITTLE_ENDIAN);
                ByteVector lo = q.and((byte) 0xF).sub((byte) 8);
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).sub((byte) 8);
                for (int p = 0; p < PARTS; p++) {
                    int xi = xOff + QK * b + j + p * L;
                    s = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, p)).fma(FloatVector.fromArray(F, x, xi), s);
                    s = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, p)).fma(FloatVector.fromArray(F, x, xi + QK / 2), s);
                }
            }
            acc = s.fma(FloatVector.broadcast(F, d), acc);
        }
        return MatmulKernel.sumLanes(acc);
    }
}
