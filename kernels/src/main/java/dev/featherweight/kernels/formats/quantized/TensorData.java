package dev.featherweight.kernels.formats.quantized;

import dev.featherweight.kernels.core.GgmlType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** One tensor of a checkpoint being written: name, safetensors element type, shape, little-endian bytes. */
public record TensorData(String name, GgmlType type, long[] shape, byte[] bytes) {

    public static TensorData ints(String name, long[] shape, int[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) b.putInt(x);
        return new TensorData(name, GgmlType.I32, shape, b.array());
    }

    public static TensorData floats(String name, long[] shape, float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return new TensorData(name, GgmlType.F32, shape, b.array());
    }

    /** Floats stored as fp16 (round to nearest even). */
    public static TensorData halves(String name, long[] shape, float[] v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putShort(Float.floatToFloat16(x));
        return new TensorData(name, GgmlType.F16, shape, b.array());
    }

    public static TensorData bytes(String name, GgmlType type, long[] shape, byte[] v) {
        return new TensorData(name, type, shape, v);
    }

    /** Floats in a source model's element type (F32, F16 or BF16, round to nearest even). */
    public static TensorData floatsAs(String name, GgmlType type, long[] shape, float[] v) {
        return switch (type) {
            case F32 -> floats(name, shape, v);
            case F16 -> halves(name, shape, v);
            case BF16 -> {
                ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                for (float x : v) {
                    int bits = Float.floatToRawIntBits(x);
                    if (Float.isNaN(x)) b.putShort((short) ((bits >>> 16) | 0x40));
                    else b.putShort((short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16));
                }
                yield new TensorData(name, GgmlType.BF16, shape, b.array());
            }
            default -> throw new IllegalArgumentException(name + ": cannot store floats as " + type);
        };
    }
}
