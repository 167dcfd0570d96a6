package dev.featherweight.kernels.quant.gguf;

import static dev.featherweight.kernels.quant.gguf.QuantSearch.nearestInt;

/** The grid-snapping scale search that {@code quantize_row_iq2_xs_impl} and {@code quantize_row_iq2_s_impl} share. */
final class IqSearch {
    private IqSearch() {
    }

    private static final int K_MAX_Q = 3;

    /**
     * For 16 weights (|x| in xval, least-squares weights w, neighbour-search weights waux = sqrt(w), max = max xval):
     * tries the scales id = (5 + 0.1·is)/max for is = −range..range, rounds to levels 0..2, snaps each group of 8
     * onto the grid, keeps the best Σwxq/Σwq² fit; then the groups that had to be snapped are re-snapped with that
     * scale and the scale refitted. Returns the scale, levels in L.
     */
    static float snapToGrid16(IqGrid grid, float[] xval, float[] weight, float[] waux, float max, int range,
                              byte[] L, byte[] Laux, boolean[] onGrid, boolean[] onGridAux) {
        float best = 0;
        float scale = max / (2 * K_MAX_Q - 1);
        onGrid[0] = onGrid[1] = true;
        for (int is = -range; is <= range; ++is) {
            float id = (2 * K_MAX_Q - 1 + is * 0.1f) / max;
            float thisScale = 1 / id;
            for (int k = 0; k < 2; ++k) {
                for (int i = 0; i < 8; ++i) {
                    int l = nearestInt(0.5f * (id * xval[8 * k + i] - 1));
                    Laux[8 * k + i] = (byte) Math.max(0, Math.min(K_MAX_Q - 1, l));
                }
                int u = IqGrid.pack(Laux, 8 * k);
                onGridAux[k] = true;
                if (grid.indexOf(u) < 0) {
                    onGridAux[k] = false;
                    grid.bestNeighbour(u, xval, 8 * k, waux, 8 * k, thisScale, Laux, 8 * k);
                }
            }
            float sumqx = 0, sumq2 = 0;
            for (int i = 0; i < 16; ++i) {
                float w = weight[i];
                float q = 2 * Laux[i] + 1;
                sumqx += w * xval[i] * q;
                sumq2 += w * q * q;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                scale = sumqx / sumq2;
                best = scale * sumqx;
                System.arraycopy(Laux, 0, L, 0, 16);
                onGrid[0] = onGridAux[0];
                onGrid[1] = onGridAux[1];
            }
        }
        if ((!onGrid[0] || !onGrid[1]) && scale > 0) {
            float id = 1 / scale;
            for (int k = 0; k < 2; ++k) {
                if (onGrid[k]) continue;
                for (int i = 0; i < 8; ++i) {
                    int l = nearestInt(0.5f * (id * xval[8 * k + i] - 1));
                    L[8 * k + i] = (byte) Math.max(0, Math.min(K_MAX_Q - 1, l));
                }
                int u = IqGrid.pack(L, 8 * k);
                if (grid.indexOf(u) < 0) grid.bestNeighbour(u, xval, 8 * k, waux, 8 * k, scale, L, 8 * k);
            }
            float sumqx = 0, sumq2 = 0;
            for (int i = 0; i < 16; ++i) {
                float w = weight[i];
                float q = 2 * L[i] + 1;
                sumqx += w * xval[i] * q;
                sumq2 += w * q * q;
            }
            if (sumq2 > 0) scale = sumqx / sumq2;
        }
        return scale;
    }
}
