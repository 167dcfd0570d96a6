package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.MatmulKernel;

import java.lang.foreign.MemorySegment;

/**
 * One GGUF tensor type: how a row of float weights becomes that type's blocks and back, byte for byte
 * as llama.cpp's ggml-quants.c does it (the {@code quantize_<type>} entry point that llama-quantize calls
 * through {@code ggml_quantize_chunk}, and {@code dequantize_row_<type>}).
 *
 * <p>Implementations are stateless and thread-safe: every call allocates its own small scratch arrays.
 * A row is quantized independently of every other row, so splitting rows across threads never changes
 * the bytes ({@link GgufBlockCodecs#quantizeRows}).
 */
public interface GgufBlockCodec {
    /** The ggml type this codec writes. */
    GgmlType type();

    /**
     * Quantizes {@code n} weights {@code src[srcOff .. srcOff+n)} (one tensor row) into
     * {@link #rowBytes(int) rowBytes(n)} bytes at {@code dst[dstOff ..]}.
     *
     * @param importance per-column importance of this row ({@code n} values, the imatrix entry of the
     *                   tensor as llama-quantize passes it), or {@code null} for no importance matrix. With
     *                   null the reference path ({@code quantize_row_*_ref}) is used, otherwise the weighted
     *                   {@code quantize_row_*_impl} search, exactly as {@code quantize_<type>} chooses.
     * @throws IllegalArgumentException when n is not a multiple of the block size or importance has the wrong length
     */
    void quantizeRow(float[] src, int srcOff, int n, MemorySegment dst, long dstOff, float[] importance);

    /** Decodes {@code n} weights (one row, {@link #rowBytes(int) rowBytes(n)} bytes at srcOff) into {@code dst[dstOff ..]}. */
    void dequantizeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n);

    /**
     * What the forward pass calls per row: the same bits as {@link #dequantizeRow} (ggml's reference decode),
     * through a Vector API loop over the mapped blocks for the types that have one (F32, F16, BF16, Q8_0, Q4_0,
     * Q4_K, Q5_K, Q6_K).
     */
    default void decodeRow(MemorySegment src, long srcOff, float[] dst, int dstOff, int n) {
        dequantizeRow(src, srcOff, dst, dstOff, n);
    }

    /**
     * dot(row, x[xOff .. xOff+n)) for the row of {@code n} weights at srcOff: the row decoded into a per-thread
     * buffer and a vector dot, unless the type dots its blocks straight from the mapping (F32, Q8_0, Q4_0).
     */
    default float dotRow(MemorySegment src, long srcOff, float[] x, int xOff, int n) {
        float[] w = RowScratch.floats(n);
        decodeRow(src, srcOff, w, 0, n);
        return MatmulKernel.dot(w, 0, x, xOff, n);
    }

    /**
     * Byte offsets inside a block of its fp16 scales (d, and dmin/m where the type has one), which
     * {@code ggml_validate_row_data} checks for inf/NaN; empty for F32/F16/BF16 (every element is checked) and
     * Q8_K (an f32 d).
     */
    int[] fp16ScaleOffsets();

    /** Bytes of one row of {@code n} weights ({@code ggml_row_size}). */
    default long rowBytes(int n) {
        return type().rowBytes(n);
    }
}
