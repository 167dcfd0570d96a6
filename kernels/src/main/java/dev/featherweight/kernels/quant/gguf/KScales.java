package dev.featherweight.kernels.quant.gguf;

/**
 * The 12-byte scale/min field shared by Q4_K and Q5_K: eight 6-bit scales and eight 6-bit mins.
 * For j &lt; 4 byte j holds scale j and byte j+4 min j; for j ≥ 4 byte j+4 holds the low nibbles of
 * scale j and min j and their top two bits go to bits 6–7 of bytes j-4 and j ({@code get_scale_min_k4}).
 */
final class KScales {
    private KScales() {
    }

    /** Stores scale ls and min lm (0..63) of sub-block j into the 12 bytes at y[off]. */
    static void put(byte[] y, int off, int j, int ls, int lm) {
        if (j < 4) {
            y[off + j] = (byte) ls;
            y[off + j + 4] = (byte) lm;
        } else {
            y[off + j + 4] = (byte) ((ls & 0xF) | ((lm & 0xF) << 4));
            y[off + j - 4] |= (byte) ((ls >> 4) << 6);
            y[off + j] |= (byte) ((lm >> 4) << 6);
        }
    }

    /** {@code get_scale_min_k4}: scale of sub-block j. */
    static int scale(byte[] q, int off, int j) {
        if (j < 4) return q[off + j] & 63;
        return (q[off + j + 4] & 0xF) | (((q[off + j - 4] & 0xFF) >> 6) << 4);
    }

    /** {@code get_scale_min_k4}: min of sub-block j. */
    static int min(byte[] q, int off, int j) {
        if (j < 4) return q[off + j + 4] & 63;
        return ((q[off + j + 4] & 0xFF) >> 4) | (((q[off + j] & 0xFF) >> 6) << 4);
    }
}
