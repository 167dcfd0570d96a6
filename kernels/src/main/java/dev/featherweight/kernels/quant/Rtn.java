package dev.featherweight.kernels.quant;

/**
 * Round-to-nearest onto a uniform integer grid: int8/4/3/2, symmetric or asymmetric, per tensor, per channel
 * (output row) or per group of input columns. The grid of one group is GPTQ's {@code Quantizer.find_params}
 * (gptqmodel/quantization/quantizer.py): the range is widened to include 0, a symmetric grid centres the zero
 * point at (maxq + 1) / 2, an all-zero group gets the range [−1, 1]; rounding is half-to-even like torch.round.
 * GPTQ uses the same grid, so RTN is GPTQ without error feedback, and the two are directly comparable.
 */
public final class Rtn {
    private Rtn() {
    }

    /** Granularity of scales: one per tensor, per output row, or per group of input columns of each row. */
    public enum Granularity { TENSOR, CHANNEL, GROUP }

    /**
     * One group's grid.
     *
     * @param minZeroOne keep asymmetric zero points ≥ 1: the classic GPTQ checkpoint stores zero − 1, and a zero
     *                   of 0 would wrap to 2^bits − 1 (see {@link #grid}).
     */
    public record Grid(float scale, int zero, int maxq) {
        public int quantize(float x) {
            double q = Math.rint(x / scale) + zero;
            return (int) Math.max(0, Math.min(maxq, q));
        }

        public float dequantize(int q) {
            return scale * (q - zero);
        }
    }

    /**
     * The grid for values with minimum {@code min} and maximum {@code max}, as find_params computes it, with the
     * scale rounded to fp16 (what the checkpoint stores) before the zero point is derived from it. With
     * {@code minZeroOne}, an asymmetric group whose zero point would round to 0 (all weights ≥ 0) instead gets
     * zero = 1 and scale = max / (maxq − 1), so the classic "zero − 1" storage never wraps.
     */
    public static Grid grid(float min, float max, int bits, boolean sym, boolean minZeroOne) {
        int maxq = (1 << bits) - 1;
        float xmin = Math.min(min, 0f), xmax = Math.max(max, 0f);
        if (sym) {
            xmax = Math.max(-xmin, xmax);
            if (xmin < 0) xmin = -xmax;
        }
        if (xmin == 0 && xmax == 0) {
            xmin = -1;
            xmax = 1;
        }
        float scale = fp16Scale((xmax - xmin) / maxq);
        int zero;
        if (sym) {
            zero = (maxq + 1) / 2;
        } else {
            zero = (int) Math.max(0, Math.min(maxq, Math.rint(-xmin / scale)));
            if (minZeroOne && zero < 1) {
                zero = 1;
                scale = fp16Scale(xmax / (maxq - 1));
            }
        }
        return new Grid(scale, zero, maxq);
    }

    /** Rounds a positive scale to fp16; a scale that would underflow to 0 becomes the smallest fp16 subnormal. */
    public static float fp16Scale(float s) {
        float h = Float.float16ToFloat(Float.floatToFloat16(s));
        if (!(h > 0)) h = Float.float16ToFloat((short) 1);
        if (Float.isInfinite(h)) h = 65504f;
        return h;
    }

    /**
     * Quantizes W (rows × cols, row-major, not modified).
     *
     * @param groupSize for {@link Granularity#GROUP}; must divide cols
     */
    public static QuantizedLinear quantize(float[] w, int rows, int cols, int bits, boolean sym, Granularity gran, int groupSize, boolean minZeroOne) {
        checkBits(bits);
        int gs = switch (gran) {
            case TENSOR, CHANNEL -> cols;
            case GROUP -> groupSize;
        };
        if (gs <= 0 || cols % gs != 0) throw new IllegalArgumentException("group size " + gs + " does not divide the row length " + cols);
        int groups = cols / gs;
        float[] scales = new float[groups * rows];
        int[] zeros = new int[groups * rows];
        byte[] codes = new byte[rows * cols];
        Grid tensorGrid = null;
        if (gran == Granularity.TENSOR) {
            float mn = Float.POSITIVE_INFINITY, mx = Float.NEGATIVE_INFINITY;
            for (float x : w) {
                mn = Math.min(mn, x);
                mx = Math.max(mx, x);
            }
            tensorGrid = grid(mn, mx, bits, sym, minZeroOne);
        }
        double loss = 0;
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                int c0 = r * cols + g * gs;
                Grid grid = tensorGrid;
                if (grid == null) {
                    float mn = Float.POSITIVE_INFINITY, mx = Float.NEGATIVE_INFINITY;
                    for (int c = 0; c < gs; c++) {
                        mn = Math.min(mn, w[c0 + c]);
                        mx = Math.max(mx, w[c0 + c]);
                    }
                    grid = grid(mn, mx, bits, sym, minZeroOne);
                }
                scales[g * rows + r] = grid.scale();
                zeros[g * rows + r] = grid.zero();
                for (int c = 0; c < gs; c++) {
                    int q = grid.quantize(w[c0 + c]);
                    codes[c0 + c] = (byte) q;
                    double e = w[c0 + c] - grid.dequantize(q);
                    loss += e * e;
                }
            }
        }
        int[] gIdx = new int[cols];
        for (int c = 0; c < cols; c++) gIdx[c] = c / gs;
        return new QuantizedLinear(rows, cols, bits, gran == Granularity.GROUP ? gs : -1, sym, codes, scales, zeros, gIdx, loss);
    }

    static void checkBits(int bits) {
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) throw new IllegalArgumentException("bits must be 2, 3, 4 or 8, got " + bits);
    }
}
