package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.MatmulKernel;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Base of the weight classes that read a memory-mapped tensor of one {@link GgmlType}: rows of
 * {@code cols/blockSize} blocks back to back (ggml layout). A row is copied from the mapping into a small
 * per-thread byte buffer and decoded block by block by the subclass — the layouts follow
 * ggml-common.h (see GGUF-NOTES.md §2); the whole tensor is never copied.
 */
public abstract class BlockMatrix implements WeightMatrix {
    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ThreadLocal<byte[]> ROW_BYTES = ThreadLocal.withInitial(() -> new byte[0]);

    protected final String name;
    protected final GgmlType type;
    protected final MemorySegment data;
    protected final int rows;
    protected final int cols;
    protected final long rowBytes;

    protected BlockMatrix(Tensor t, GgmlType expected) {
        if (t.type() != expected) throw new IllegalArgumentException(t.name() + " is " + t.type() + ", not " + expected);
        this.name = t.name();
        this.type = t.type();
        this.data = t.data();
        long r = t.rows(), c = t.rowLength();
        if (r > Integer.MAX_VALUE || c > Integer.MAX_VALUE) throw new IllegalArgumentException(t.name() + " is too large for one matrix: " + t);
        this.rows = (int) r;
        this.cols = (int) c;
        this.rowBytes = type.rowBytes(c);
        if (data.byteSize() < rowBytes * r) {
            throw new IllegalArgumentException(t.name() + ": " + data.byteSize() + " bytes for " + r + " rows of " + rowBytes);
        }
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

    /** The bytes of one row, in a per-thread buffer valid until the next call on this thread. */
    protected final byte[] rowBytes(int row) {
        byte[] b = ROW_BYTES.get();
        if (b.length < rowBytes) {
            b = new byte[(int) rowBytes];
            ROW_BYTES.set(b);
        }
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, row * rowBytes, b, 0, (int) rowBytes);
        return b;
    }

    @Override
    public void decodeRow(int row, float[] dst, int off) {
        byte[] b = rowBytes(row);
        int bs = type.blockSize, ts = type.typeSize, nb = cols / bs;
        for (int i = 0; i < nb; i++) decodeBlock(b, i * ts, dst, off + i * bs);
    }

    /**
     * Few tokens (generation): no tile to amortize a decode over, so each row is dotted straight from the
     * mapping with {@link #dotRow}; otherwise the shared tiled kernel.
     */
    @Override
    public void matmul(float[] x, int nTokens, float[] out, Parallel pool) {
        if (nTokens >= 4) {
            MatmulKernel.matmul(this, x, nTokens, out, pool);
            return;
        }
        int chunk = 64, tasks = (rows + chunk - 1) / chunk;
        pool.forEach(tasks, ti -> {
            int r1 = Math.min(rows, (ti + 1) * chunk);
            for (int r = ti * chunk; r < r1; r++) {
                for (int t = 0; t < nTokens; t++) out[t * rows + r] = dotRow(r, x, t * cols);
            }
        });
    }

    private static final ThreadLocal<float[]> ROW_FLOATS = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * dot(W[row], x[xOff .. xOff+cols)). This default decodes the row and uses the vector dot; the common
     * types override it with a Vector API loop over the mapped blocks.
     */
    public float dotRow(int row, float[] x, int xOff) {
        float[] w = ROW_FLOATS.get();
        if (w.length < cols) {
            w = new float[cols];
            ROW_FLOATS.set(w);
        }
        decodeRow(row, w, 0);
        return MatmulKernel.dot(w, 0, x, xOff, cols);
    }

    /** Dequantizes the block at b[o ..) into y[yo .. yo+blockSize). */
    protected abstract void decodeBlock(byte[] b, int o, float[] y, int yo);

    static float f16(byte[] b, int o) {
        return Float.float16ToFloat((short) ((b[o] & 0xFF) | (b[o + 1] << 8)));
    }

    static int u8(byte[] b, int o) {
        return b[o] & 0xFF;
    }

    @Override
    public String toString() {
        return name + " " + type + " [" + rows + " x " + cols + "]";
    }
}
