package dev.featherweight.kernels.quant.gguf;

/**
 * Sign handling, level values and the weight sort shared by the IQ2/IQ1 codecs (ggml-common.h {@code ksigns_iq2xs},
 * {@code kmask_iq2xs}, and the magnitudes of {@code iq2xxs_grid}/{@code iq2xs_grid}/{@code iq2s_grid}/{@code iq1s_grid}).
 */
final class IqSigns {
    private IqSigns() {
    }

    /** The value of level 0, 1, 2 in the IQ2 grids (bytes 0x08, 0x19, 0x2b of ggml's iq2*_grid tables). */
    static final float[] IQ2_MAGNITUDES = {8, 25, 43};
    /** The value of level 0, 1, 2 in the IQ1 grid (iq1s_grid bytes −1, 0, 1). */
    static final float[] IQ1_VALUES = {-1, 0, 1};

    /**
     * {@code ksigns_iq2xs}: a 7-bit sign pattern widened to 8 bits with an even number of minus signs (bit 7 =
     * parity of the low seven) — the IQ2_XXS/IQ2_XS quantizers make every 8-weight group's sign count even.
     */
    static final int[] KSIGNS = new int[128];

    static {
        for (int i = 0; i < 128; i++) KSIGNS[i] = i | (Integer.bitCount(i) & 1) << 7;
    }

    /** Every grid point's 8 weights as values: values[levels[8g + i]]. */
    static float[] gridValues(IqGrid grid, float[] values) {
        float[] v = new float[grid.levels.length];
        for (int i = 0; i < v.length; i++) v[i] = values[grid.levels[i]];
        return v;
    }

    /**
     * |x| of 8 weights into xval and their sign bits (bit i set for x &lt; 0). With {@code evenSigns} (IQ2_XXS,
     * IQ2_XS) an odd count of minus signs flips the weight with the smallest w·x² so the count is even, and
     * only the low 7 bits are returned (the 8th is implied, {@link #KSIGNS}).
     */
    static int foldSigns(float[] x, int xo, float[] weight, int wo, float[] xval, int vo, boolean evenSigns) {
        int nflip = 0;
        int s = 0;
        for (int i = 0; i < 8; ++i) {
            if (x[xo + i] >= 0) {
                xval[vo + i] = x[xo + i];
            } else {
                xval[vo + i] = -x[xo + i];
                ++nflip;
                s |= 1 << i;
            }
        }
        if (!evenSigns) return s;
        if (nflip % 2 != 0) {
            int imin = 0;
            float min = weight[wo] * x[xo] * x[xo];
            for (int i = 1; i < 8; ++i) {
                float ax = weight[wo + i] * x[xo + i] * x[xo + i];
                if (ax < min) {
                    min = ax;
                    imin = i;
                }
            }
            xval[vo + imin] = -xval[vo + imin];
            s ^= 1 << imin;
        }
        return s & 127;
    }

    /**
     * idx[0 .. n) = 0 .. n−1 ordered by x[xo + i] ascending, equal values keeping their order: the order glibc's
     * qsort (a merge sort for arrays this small) gives the (value, index) pairs of quantize_row_iq1_*_impl.
     */
    static void sortIndices(float[] x, int xo, int n, int[] idx) {
        for (int j = 0; j < n; j++) {
            int i = j;
            float v = x[xo + j];
            while (i > 0 && x[xo + idx[i - 1]] > v) {
                idx[i] = idx[i - 1];
                i--;
            }
            idx[i] = j;
        }
    }
}
