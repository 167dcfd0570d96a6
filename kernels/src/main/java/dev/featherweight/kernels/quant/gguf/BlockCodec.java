package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.HalfFloats;
import dev.featherweight.kernels.core.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Common frame of the block codecs: argument checks and the copy between a heap row buffer and the
 * (usually memory-mapped) segment. Subclasses see one row as {@code float[]} in and {@code byte[]} out,
 * laid out exactly like the C block structs of ggml-common.h (little-endian).
 */
abstract class BlockCodec implements GgufBlockCodec {

    /** Little-endian reads straight from a mapped tensor (the fast row paths). */
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final GgmlType type;
    private final int[] fp16ScaleOffsets;

    /** @param fp16ScaleOffsets byte offsets of the block's fp16 scales, which ggml_validate_row_data checks */
    BlockCodec(GgmlType type, int... fp16ScaleOffsets) {
        this.type = type;
        this.fp16ScaleOffsets = fp16ScaleOffsets;
    }

    @Override
    public final int[] fp16ScaleOffsets() {
        return fp16ScaleOffsets.clone();
    }

    @Override
    public final GgmlType type() {
        return type;
    }

    @Override
    public final void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance) {
        checkRow(n);
        if (srcOff < 0 || srcOff + n > src.length) {
            throw new IndexOutOfBoundsException("source row [" + srcOff + ", " + (srcOff + n) + ") outside an array of " + src.length);
        }
        if (importance != null && importance.length != n) {
            throw new IllegalArgumentException(type + ": importance has " + importance.length + " values for a row of " + n);
        }
        byte[] out = new byte[(int) type.rowBytes(n)];
        quantize(src, srcOff, n, out, importance);
        MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, dstOff, out.length);
    }

    @Override
    public final void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        checkRow(n);
        dequantize(rowBuffer(src, srcOff, n), dst, dstOff, n);
    }

    private static final ThreadLocal<byte[]> ROW_BYTES = ThreadLocal.withInitial(() -> new byte[0]);

    /**
     * The rowBytes(n) bytes at src[srcOff ..] copied into a per-thread buffer (valid until this thread's next
     * call; may be longer than the row): decoding a row never allocates.
     */
    final byte[] rowBuffer(MemorySegment src, long srcOff, int n) {
        int len = (int) type.rowBytes(n);
        byte[] b = ROW_BYTES.get();
        if (b.length < len) {
            b = new byte[len];
            ROW_BYTES.set(b);
        }
        MemorySegment.copy(src, ValueLayout.JAVA_BYTE, srcOff, b, 0, len);
        return b;
    }

    /** Quantizes the row x[xo .. xo+n) into y (rowBytes(n) bytes); qw is null or n importance values. */
    abstract void quantize(float[] x, int xo, int n, byte[] y, float[] qw);

    /** Decodes rowBytes(n) bytes of y into x[xo .. xo+n). */
    abstract void dequantize(byte[] y, float[] x, int xo, int n);

    private void checkRow(int n) {
        if (n < 0 || n % type.blockSize != 0) {
            throw new IllegalArgumentException(type + " needs rows of a multiple of " + type.blockSize + " weights, got " + n);
        }
    }

    // Little-endian fields as byte stores and loads: the same bytes as a byte-array view VarHandle, and cheap in the
    // interpreter and C1 too, where a VarHandle call is a method-handle chain (a cold quantization spends its first
    // second there).
    static void putFp16(byte[] b, int off, float v) {
        putShort(b, off, HalfFloats.fp32ToFp16(v));
    }

    static float getFp16(byte[] b, int off) {
        return HalfFloats.fp16ToFp32(getShort(b, off));
    }

    static void putShort(byte[] b, int off, short v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >> 8);
    }

    static short getShort(byte[] b, int off) {
        return (short) (b[off] & 0xFF | b[off + 1] << 8);
    }

    static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >> 8);
        b[off + 2] = (byte) (v >> 16);
        b[off + 3] = (byte) (v >> 24);
    }

    static int getInt(byte[] b, int off) {
        return b[off] & 0xFF | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | b[off + 3] << 24;
    }
}
