package dev.featherweight.kernels.core;

/**
 * A weight matrix W of {@link #rows()} × {@link #cols()} as a forward pass uses it: one output feature per
 * row, rows stored in whatever format the file has (F32, F16, a GGUF block type, GPTQ/AWQ/NF4 …).
 *
 * <p>To add a weight format, implement {@link #rows()}, {@link #cols()} and {@link #decodeRow}; the default
 * {@link #matmul} then runs the shared tiled Vector API kernel ({@link MatmulKernel}), which decodes each row
 * once per batch into a small L2-resident tile and multiplies it with every token of the batch. Formats
 * with a faster fused path override {@link #matmul}. Implementations must be thread-safe for reads
 * ({@code decodeRow} is called concurrently for different rows).
 */
public interface WeightMatrix {
    /** Output features (rows of W). */
    int rows();

    /** Input features (row length). */
    int cols();

    /** A short name of the storage format, e.g. "F32", "Q4_K", "GPTQ-4bit". */
    String format();

    /** Writes row {@code row} of W, dequantized to float, into {@code dst[off .. off+cols)}. */
    void decodeRow(int row, float[] dst, int off);

    /**
     * out[t·rows + r] = Σ_c W[r][c] · x[t·cols + c] for t in [0, nTokens): the activations of a batch of tokens
     * (row-major, one row of {@code cols} per token) times Wᵀ. Rows are split across {@code pool}.
     */
    default void matmul(float[] x, int nTokens, float[] out, Parallel pool) {
        MatmulKernel.matmul(this, x, nTokens, out, pool);
    }

    /** {@link #matmul(float[], int, float[], Parallel)} on the shared pool (all cores). */
    default void matmul(float[] x, int nTokens, float[] out) {
        matmul(x, nTokens, out, Parallel.shared());
    }

    /** Bytes the weights occupy in their storage format. */
    long storageBytes();
}
