package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.HalfFloats;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.quant.Fp8E4M3;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A compressed-tensors linear, decoded row by row from the mapped checkpoint as its compressor's
 * {@code decompress_weight} does: {@code pack-quantized} (weight_packed int32 along the input dimension, weight_scale
 * [out, groups], optional packed weight_zero_point) w = scale · (q − zp); {@code int-quantized} int8 weight
 * w = q · scale; {@code float-quantized} float8_e4m3fn weight w = e4m3(q) · scale (per row or per tensor).
 * Every product is the one the quantizer made (same operands, same float multiply), so decoding is bit-exact.
 */
public final class CompressedTensorsMatrix implements WeightMatrix {
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private enum Kind { PACKED, INT8, FP8 }

    private final Kind kind;
    private final MemorySegment data;
    private final int rows, cols, bits, groups, groupSize, wordsPerRow;
    /** rows × groups (per tensor: one value). */
    private final float[] scales;
    /** rows × groups unsigned zero points, or null (symmetric: 2^(bits−1)). */
    private final int[] zeros;

    private CompressedTensorsMatrix(Kind kind, MemorySegment data, int rows, int cols, int bits, float[] scales, int groups, int[] zeros) {
        this.kind = kind;
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.bits = bits;
        this.scales = scales;
        this.groups = groups;
        this.groupSize = (cols + groups - 1) / groups;
        this.zeros = zeros;
        this.wordsPerRow = bits > 0 ? (cols + 32 / bits - 1) / (32 / bits) : 0;
    }

    /** pack-quantized: weight_packed, weight_scale, weight_shape and, asymmetric, weight_zero_point (else null). */
    public static CompressedTensorsMatrix packed(Tensor packed, Tensor scale, Tensor shape, Tensor zeroPoint, int bits) {
        expect(packed, GgmlType.I32);
        expect(shape, GgmlType.I64);
        int rows = (int) shape.data().get(LE_LONG, 0), cols = (int) shape.data().get(LE_LONG, 8);
        int pf = 32 / bits;
        if (packed.shape()[0] != rows || packed.shape()[1] != (cols + pf - 1) / pf)
            throw new IllegalArgumentException(packed.name() + ": shape " + java.util.Arrays.toString(packed.shape()) + " does not hold " + rows + " × " + cols + " " + bits + "-bit values");
        if (scale.shape()[0] != rows) throw new IllegalArgumentException(scale.name() + ": " + scale.shape()[0] + " rows, expected " + rows);
        int groups = (int) (scale.elements() / rows);
        if (cols % groups != 0) throw new IllegalArgumentException(scale.name() + ": " + groups + " groups do not divide " + cols + " input features");
        int[] zeros = null;
        if (zeroPoint != null) {
            expect(zeroPoint, GgmlType.I32);
            int[] words = new int[(int) zeroPoint.elements()];
            for (int i = 0; i < words.length; i++) words[i] = zeroPoint.data().get(LE_INT, 4L * i);
            zeros = dev.featherweight.kernels.quant.Packing.compressedTensorsUnpack(words, rows, groups, bits, true);
        }
        return new CompressedTensorsMatrix(Kind.PACKED, packed.data(), rows, cols, bits, floats(scale), groups, zeros);
    }

    /** int-quantized: int8 weight [out, in] and weight_scale [out, 1]. */
    public static CompressedTensorsMatrix int8(Tensor weight, Tensor scale) {
        expect(weight, GgmlType.I8);
        int rows = (int) weight.shape()[0];
        if (scale.elements() != rows) throw new IllegalArgumentException(scale.name() + ": " + scale.elements() + " scales for " + rows + " rows");
        return new CompressedTensorsMatrix(Kind.INT8, weight.data(), rows, (int) weight.shape()[1], 0, floats(scale), 1, null);
    }

    /** float-quantized: float8_e4m3fn weight [out, in] and weight_scale [out, 1] or [1]. */
    public static CompressedTensorsMatrix fp8(Tensor weight, Tensor scale) {
        expect(weight, GgmlType.F8_E4M3);
        int rows = (int) weight.shape()[0];
        if (scale.elements() != rows && scale.elements() != 1)
            throw new IllegalArgumentException(scale.name() + ": " + scale.elements() + " scales for " + rows + " rows (one per row or one)");
        return new CompressedTensorsMatrix(Kind.FP8, weight.data(), rows, (int) weight.shape()[1], 0, floats(scale), 1, null);
    }

    private static void expect(Tensor t, GgmlType type) {
        if (t.type() != type) throw new IllegalArgumentException(t.name() + ": expected " + type + ", found " + t.type());
    }

    /** The values of a F32, F16 or BF16 tensor. */
    static float[] floats(Tensor t) {
        float[] f = new float[(int) t.elements()];
        ValueLayout.OfShort s16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < f.length; i++) {
            f[i] = switch (t.type()) {
                case F32 -> t.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i);
                case F16 -> HalfFloats.fp16ToFp32(t.data().get(s16, 2L * i));
                case BF16 -> HalfFloats.bf16ToFp32(t.data().get(s16, 2L * i));
                default -> throw new IllegalArgumentException(t.name() + ": expected F32, F16 or BF16, found " + t.type());
            };
        }
        return f;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public String format() {
        return switch (kind) {
            case PACKED -> "CT-int" + bits;
            case INT8 -> "CT-int8";
            case FP8 -> "CT-fp8";
        };
    }

    @Override
    public void decodeRow(int r, float[] dst, int off) {
        switch (kind) {
            case PACKED -> {
                int pf = 32 / bits, mask = (1 << bits) - 1, sym = 1 << (bits - 1);
                long base = 4L * r * wordsPerRow;
                for (int c = 0; c < cols; c++) {
                    int word = data.get(LE_INT, base + 4L * (c / pf));
                    int code = (word >>> (bits * (c % pf))) & mask;
                    int g = r * groups + c / groupSize;
                    dst[off + c] = scales[g] * (code - (zeros != null ? zeros[g] : sym));
                }
            }
            case INT8 -> {
                long base = (long) r * cols;
                float s = scales[r];
                for (int c = 0; c < cols; c++) dst[off + c] = s * data.get(ValueLayout.JAVA_BYTE, base + c);
            }
            case FP8 -> {
                long base = (long) r * cols;
                float s = scales[scales.length == 1 ? 0 : r];
                for (int c = 0; c < cols; c++) dst[off + c] = Fp8E4M3.decode(data.get(ValueLayout.JAVA_BYTE, base + c)) * s;
            }
        }
    }

    @Override
    public long storageBytes() {
        long w = kind == Kind.PACKED ? 4L * rows * wordsPerRow : (long) rows * cols;
        return w + 4L * scales.length + (zeros != null ? (long) zeros.length * bits / 8 : 0);
    }
}
