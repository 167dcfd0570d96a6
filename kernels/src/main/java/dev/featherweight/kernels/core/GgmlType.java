package dev.featherweight.kernels.core;

import java.util.HashMap;
import java.util.Map;

/**
 * The ggml tensor types Featherweight reads and writes, as data: the id stored in GGUF files
 * (ggml/include/ggml.h {@code enum ggml_type}), the number of weights per block and the bytes
 * per block (ggml/src/ggml-common.h).
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 56),
    BF16(30, 1, 2),
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66),
    /** Not a ggml type: unsigned bytes as safetensors stores them (bitsandbytes packs 4-bit weights so). */
    U8(-1, 1, 1),
    /** Not a ggml type: torch's float8_e4m3fn as safetensors stores it (F8_E4M3; compressed-tensors FP8 weights). */
    F8_E4M3(-2, 1, 1);

    private static final Map<Integer, GgmlType> BY_ID = new HashMap<>();

    static {
        for (GgmlType t : values()) BY_ID.put(t.id, t);
    }

    /** Id stored in GGUF tensor infos. */
    public final int id;
    /** Weights per block (1 for plain element types). */
    public final int blockSize;
    /** Bytes per block. */
    public final int typeSize;

    GgmlType(int id, int blockSize, int typeSize) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
    }

    /** The type with this GGUF id, or null when Featherweight does not know it. */
    public static GgmlType byId(int id) {
        return BY_ID.get(id);
    }

    /** Bytes of one row of {@code n} weights ({@code ggml_row_size}); n must be a multiple of the block size. */
    public long rowBytes(long n) {
        if (n % blockSize != 0) {
            throw new IllegalArgumentException(name() + " needs rows of a multiple of " + blockSize + " weights, got " + n);
        }
        return n / blockSize * typeSize;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** Nominal bits per weight including block scales. */
    public double bitsPerWeight() {
        return typeSize * 8.0 / blockSize;
    }
}
