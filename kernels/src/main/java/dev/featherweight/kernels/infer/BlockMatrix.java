package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.MatmulKernel;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.quant.gguf.GgmlDot;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodec;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodecs;
import dev.featherweight.kernels.quant.gguf.Q8Activations;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A memory-mapped tensor of any GGUF type as a weight matrix: rows of {@code cols/blockSize} blocks back to
 * back (ggml layout), decoded and dotted by the type's codec ({@link GgufBlockCodec#decodeRow},
 * {@link GgufBlockCodec#dotRow}) — the block layout, quantization, decoding and dot product of a type live
 * side by side in its codec, as in ggml-quants.c; there is no per-type matrix class. The whole tensor is
 * never copied.
 */
public final class BlockMatrix implements WeightMatrix {
    /**
     * Products of fewer tokens than this dot each row straight from the mapping (generation); more amortize a
     * tile decode over the tokens ({@link MatmulKernel}).
     */
    public static final int FEW_TOKENS = 4;
    /** Rows one task of {@link #matmul(Q8Activations, int, float[], Parallel)} decodes and dots (a multiple of 8: Q4_0's row groups). */
    static final int DOT_TILE_ROWS = 16;
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String name;
    private final GgmlType type;
    private final GgufBlockCodec codec;
    private final MemorySegment data;
    private final int rows;
    private final int cols;
    private final long rowBytes;
    /** ggml's dot for this type and shape with llama.cpp numerics, or null. */
    private final GgmlDot ggmlDot;

    /** @throws IllegalArgumentException when the tensor's type has no codec or its bytes do not match its shape */
    public BlockMatrix(Tensor t) {
        this.name = t.name();
        this.type = t.type();
        if (!GgufBlockCodecs.supported().contains(type)) {
            throw new IllegalArgumentException("tensor '" + name + "': weight type " + type + " is not supported by the forward pass; supported: " + GgufBlockCodecs.supported());
        }
        this.codec = GgufBlockCodecs.of(type);
        this.data = t.data();
        long r = t.rows(), c = t.rowLength();
        if (r > Integer.MAX_VALUE || c > Integer.MAX_VALUE) throw new IllegalArgumentException(t.name() + " is too large for one matrix: " + t);
        this.rows = (int) r;
        this.cols = (int) c;
        this.rowBytes = type.rowBytes(c);
        if (data.byteSize() < rowBytes * r) {
            throw new IllegalArgumentException(t.name() + ": " + data.byteSize() + " bytes for " + r + " rows of " + rowBytes);
        }
        this.ggmlDot = GgmlDot.of(type, rows);
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
        return type.name();
    }

    @Override
    public long storageBytes() {
        return rowBytes * rows;
    }

    public String name() {
        return name;
    }

    @Override
    public void decodeRow(int row, float[] dst, int off) {
        codec.decodeRow(data, row * rowBytes, dst, off, cols);
    }

    /** dot(W[row], x[xOff .. xOff+cols)). */
    public float dotRow(int row, float[] x, int xOff) {
        return codec.dotRow(data, row * rowBytes, x, xOff, cols);
    }

    /**
     * Few tokens (generation): no tile to amortize a decode over, so each row is dotted straight from the
     * mapping with {@link #dotRow}; otherwise the shared tiled kernel.
     */
    @Override
    public void matmul(float[] x, int nTokens, float[] out, Parallel pool) {
        if (nTokens >= FEW_TOKENS) {
            MatmulKernel.matmul(this, x, nTokens, out, pool);
            return;
        }
        int chunk = 64, tasks = (rows + chunk - 1) / chunk;
        pool.forEach(tasks, (long) rows * cols * nTokens, MatmulKernel.INLINE_WORK, ti -> {
            int r1 = Math.min(rows, (ti + 1) * chunk);
            for (int r = ti * chunk; r < r1; r++) {
                for (int t = 0; t < nTokens; t++) out[t * rows + r] = dotRow(r, x, t * cols);
            }
        });
    }

    /**
     * Block size of the activations {@link #matmul(Q8Activations, int, float[], Parallel)} takes (32 or 256), 0 when
     * the type has no port of ggml's dot here ({@link GgmlDot#of}).
     */
    public int q8BlockSize() {
        return ggmlDot == null ? 0 : ggmlDot.activationBlockSize();
    }

    /**
     * out[t·rows + r] = W[r]·x[t] on activations already quantized to this type's {@code vec_dot_type}
     * ({@link #q8BlockSize()}), bit for bit as llama.cpp's CPU backend computes them ({@link GgmlDot}). Each task
     * decodes a tile of {@link #DOT_TILE_ROWS} rows once and dots it with every token; small products run on the
     * calling thread.
     */
    public void matmul(Q8Activations x, int nTokens, float[] out, Parallel pool) {
        if (ggmlDot == null || x.blockSize() != ggmlDot.activationBlockSize() || x.cols() != cols) {
            throw new IllegalArgumentException(this + " takes " + q8BlockSize() + "-blocks of " + cols + ", got " + x.blockSize() + "-blocks of " + x.cols());
        }
        int tasks = (rows + DOT_TILE_ROWS - 1) / DOT_TILE_ROWS;
        pool.forEach(tasks, (long) rows * cols * nTokens, MatmulKernel.INLINE_WORK, ti -> {
            int r0 = ti * DOT_TILE_ROWS, count = Math.min(rows, r0 + DOT_TILE_ROWS) - r0;
            GgmlDot.Rows tile = GgmlDot.scratch();
            ggmlDot.decodeRows(data, rowBytes, r0, count, cols, tile);
            ggmlDot.matmulTile(tile, count, cols, x, nTokens, out, rows, r0);
        });
    }

    @Override
    public String toString() {
        return name + " " + type + " [" + rows + " x " + cols + "]";
    }
}
