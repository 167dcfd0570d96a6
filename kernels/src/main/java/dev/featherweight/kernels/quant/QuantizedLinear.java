package dev.featherweight.kernels.quant;

/**
 * A linear layer W (rows = output features × cols = input features) quantized onto a per-group integer grid,
 * the common result of {@link Rtn}, {@link Gptq} and {@link Awq}: w[r][c] ≈ scale[g][r] · (code[r][c] − zero[g][r])
 * with g = gIdx[c]. Scales are already fp16-representable (the checkpoint stores them as fp16, so the quantizer
 * decides with exactly the values a loader will see), which makes {@link #dequantize()} the ground truth that
 * every reloaded checkpoint must reproduce bit for bit.
 *
 * @param groupSize input columns per group; -1 = one group for the whole row (per-channel)
 * @param codes     rows × cols codes in 0 … 2^bits − 1, row-major [out][in]
 * @param scales    groups × rows ([g · rows + r]), as GPTQ's scales tensor [groups, out]
 * @param zeros     groups × rows integer zero points in 0 … 2^bits − 1
 * @param gIdx      group of every input column (GPTQ g_idx; c / groupSize unless act-order permuted it)
 * @param loss      the method's own error measure (GPTQ: Σ (w − q)² / d² / 2; RTN/AWQ: Σ (w − q)²)
 */
public record QuantizedLinear(int rows, int cols, int bits, int groupSize, boolean sym,
                              byte[] codes, float[] scales, int[] zeros, int[] gIdx, double loss) {

    public QuantizedLinear {
        if (codes.length != rows * cols) throw new IllegalArgumentException("codes: " + codes.length + " for " + rows + "×" + cols);
        if (gIdx.length != cols) throw new IllegalArgumentException("g_idx: " + gIdx.length + " for " + cols + " columns");
        if (scales.length != zeros.length || scales.length % rows != 0) throw new IllegalArgumentException("scales/zeros do not cover the rows");
    }

    /** Number of scale/zero groups (rows of the scales tensor). */
    public int groups() {
        return scales.length / rows;
    }

    public int code(int r, int c) {
        return codes[r * cols + c] & 0xFF;
    }

    public float dequantize(int r, int c) {
        int g = gIdx[c];
        return scales[g * rows + r] * (code(r, c) - zeros[g * rows + r]);
    }

    /** The dequantized weights rows × cols, row-major. */
    public float[] dequantize() {
        float[] w = new float[rows * cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) w[r * cols + c] = dequantize(r, c);
        return w;
    }

    /** True when g_idx is the plain c / groupSize (no act-order reordering is needed to read it). */
    public boolean trivialGIdx() {
        int gs = groupSize < 0 ? cols : groupSize;
        for (int c = 0; c < cols; c++) if (gIdx[c] != c / gs) return false;
        return true;
    }
}
