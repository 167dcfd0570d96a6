package dev.featherweight.kernels.core;

/** Weights held in a float[] (rows × cols, row-major): candidate and dequantized weights during calibration. */
public final class FloatArrayMatrix implements WeightMatrix {
    private final float[] w;
    private final int rows, cols;
    private final String format;

    public FloatArrayMatrix(float[] w, int rows, int cols, String format) {
        if (w.length != rows * cols) throw new IllegalArgumentException(w.length + " floats for " + rows + "×" + cols);
        this.w = w;
        this.rows = rows;
        this.cols = cols;
        this.format = format;
    }

    /** A copy of any matrix's dequantized rows. */
    public static float[] toFloats(WeightMatrix m) {
        if (m instanceof FloatArrayMatrix f) return f.w.clone();
        float[] out = new float[m.rows() * m.cols()];
        for (int r = 0; r < m.rows(); r++) m.decodeRow(r, out, r * m.cols());
        return out;
    }

    public float[] data() {
        return w;
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
        return format;
    }

    @Override
    public void decodeRow(int row, float[] dst, int off) {
        System.arraycopy(w, row * cols, dst, off, cols);
    }

    @Override
    public long storageBytes() {
        return 4L * w.length;
    }
}
