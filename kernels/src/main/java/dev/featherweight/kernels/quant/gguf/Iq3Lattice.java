package dev.featherweight.kernels.quant.gguf;

import java.util.Arrays;

import static dev.featherweight.kernels.quant.gguf.QuantSearch.nearestInt;

/**
 * One IQ3 grid ({@link Iq3Grids}) made ready for quantization as {@code iq3xs_init_impl} does it, plus the
 * 32-weight scale/grid search the two IQ3 quantizers share ({@code quantize_row_iq3_xxs_impl} and
 * {@code quantize_row_iq3_s_impl} differ only in the search range, the start of {@code is_on_grid} and which
 * groups the final pass re-picks).
 *
 * <p>A point is four levels l ∈ 0..7 (the quantizer works with the odd values 2l+1). {@link #map} sends each of
 * the 4096 level combinations to its grid index, or for a point off the grid to -(1 + offset) of its neighbour
 * list in {@link #neighbours}: [count, indices…] = every grid point whose squared distance is among the
 * {@code nwant} smallest distances (2 for 256 points, 3 for 512), ordered by distance then index (the qsort of
 * the C code with its total order).
 */
final class Iq3Lattice {
    static final Iq3Lattice XXS = new Iq3Lattice(Iq3Grids.KGRID_256, 2, Iq3Grids.IQ3XXS_LEVEL_VALUES);
    static final Iq3Lattice S = new Iq3Lattice(Iq3Grids.KGRID_512, 3, new byte[]{1, 3, 5, 7, 9, 11, 13, 15});

    private static final int KMAP_SIZE = 4096;

    final int size;
    /** The quantizer's values 2l+1 of point k: q[4k .. 4k+4). */
    final float[] q;
    /** The dequantization table (iq3xxs_grid / iq3s_grid): values of point k at [4k .. 4k+4). */
    final float[] values;
    final int[] map;
    final short[] neighbours;

    private Iq3Lattice(short[] kgrid, int nwant, byte[] levelValues) {
        size = kgrid.length;
        q = new float[4 * size];
        values = new float[4 * size];
        map = new int[KMAP_SIZE];
        Arrays.fill(map, -1);
        for (int k = 0; k < size; k++) {
            for (int i = 0; i < 4; i++) {
                int l = (kgrid[k] >> 3 * i) & 7;
                q[4 * k + i] = 2 * l + 1;
                values[4 * k + i] = levelValues[l];
            }
            map[kgrid[k]] = k;
        }
        short[] list = new short[KMAP_SIZE * (size + 1)];
        int counter = 0;
        long[] dist = new long[size];
        for (int i = 0; i < KMAP_SIZE; i++) {
            if (map[i] >= 0) continue;
            for (int j = 0; j < size; j++) {
                int d2 = 0;
                for (int k = 0; k < 4; k++) {
                    int diff = (int) q[4 * j + k] - (2 * ((i >> 3 * k) & 7) + 1);
                    d2 += diff * diff;
                }
                dist[j] = ((long) d2 << 32) | j;
            }
            Arrays.sort(dist);
            map[i] = -(counter + 1);
            int start = counter++;
            int d2 = (int) (dist[0] >>> 32), nhave = 1, n = 0;
            for (int j = 0; j < size; j++) {
                int dj = (int) (dist[j] >>> 32);
                if (dj > d2) {
                    if (nhave == nwant) break;
                    d2 = dj;
                    ++nhave;
                }
                list[counter++] = (short) (int) dist[j];
                ++n;
            }
            list[start] = (short) n;
        }
        neighbours = Arrays.copyOf(list, counter);
    }

    /**
     * {@code iq3_find_best_neighbour}: among the neighbours of an off-grid point, the one with the least weighted
     * squared error to xval at this scale (first one on ties); writes its levels to L and returns its index.
     */
    int bestNeighbour(int mapEntry, float[] xval, int xo, float[] weight, float scale, byte[] L, int lo) {
        int start = -mapEntry - 1;
        int count = neighbours[start];
        float bestD2 = Float.MAX_VALUE;
        int gridIndex = -1;
        for (int j = 1; j <= count; ++j) {
            int g = neighbours[start + j];
            float d2 = 0;
            for (int i = 0; i < 4; ++i) {
                float diff = scale * q[4 * g + i] - xval[xo + i];
                d2 += weight[xo + i] * diff * diff;
            }
            if (d2 < bestD2) {
                bestD2 = d2;
                gridIndex = g;
            }
        }
        for (int i = 0; i < 4; ++i) L[lo + i] = (byte) (((int) q[4 * gridIndex + i] - 1) / 2);
        return gridIndex;
    }

    /** Scratch of one 32-weight search (one per thread: a quantizer allocates it per row). */
    static final class Scratch {
        final byte[] L = new byte[32], Laux = new byte[32];
        final boolean[] onGrid = new boolean[8], onGridAux = new boolean[8];
    }

    /**
     * The scale search of one 32-weight sub-block (8 groups of 4): scales id = (15 + 0.2·is)/max for
     * is = -range..range, levels nearest_int((id·x - 1)/2) clamped to 0..7, off-grid groups replaced by their best
     * neighbour, the best weighted fit kept; then, if a kept group was off the grid, the groups are re-picked at the
     * fitted scale ({@code repickAll}: every group, as IQ3_S; else only the off-grid ones, as IQ3_XXS) and the scale
     * refitted. Returns the scale; the levels are in {@code s.L}.
     *
     * @param startOnGrid the initial is_on_grid (IQ3_XXS true, IQ3_S false)
     */
    float search(float[] xval, float[] weight, float[] waux, float max, int range, boolean startOnGrid, boolean repickAll, Scratch s) {
        byte[] L = s.L, Laux = s.Laux;
        boolean[] onGrid = s.onGrid, onGridAux = s.onGridAux;
        Arrays.fill(L, (byte) 0);
        float best = 0;
        float scale = max / 15;
        Arrays.fill(onGrid, startOnGrid);
        for (int is = -range; is <= range; ++is) {
            float id = (15 + is * 0.2f) / max;
            float thisScale = 1 / id;
            for (int k = 0; k < 8; ++k) {
                int u = 0;
                for (int i = 0; i < 4; ++i) {
                    int l = nearestInt(0.5f * (id * xval[4 * k + i] - 1));
                    l = Math.max(0, Math.min(7, l));
                    Laux[4 * k + i] = (byte) l;
                    u |= l << 3 * i;
                }
                int gridIndex = map[u];
                onGridAux[k] = true;
                if (gridIndex < 0) {
                    onGridAux[k] = false;
                    bestNeighbour(gridIndex, xval, 4 * k, waux, thisScale, Laux, 4 * k);
                }
            }
            float sumqx = 0, sumq2 = 0;
            for (int i = 0; i < 32; ++i) {
                float w = weight[i];
                float qi = 2 * Laux[i] + 1;
                sumqx += w * xval[i] * qi;
                sumq2 += w * qi * qi;
            }
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                scale = sumqx / sumq2;
                best = scale * sumqx;
                System.arraycopy(Laux, 0, L, 0, 32);
                System.arraycopy(onGridAux, 0, onGrid, 0, 8);
            }
        }
        int notOnGrid = 0;
        for (int k = 0; k < 8; ++k) if (!onGrid[k]) ++notOnGrid;
        if (notOnGrid > 0 && scale > 0) {
            float id = 1 / scale;
            for (int k = 0; k < 8; ++k) {
                if (!repickAll && onGrid[k]) continue;
                int u = 0;
                for (int i = 0; i < 4; ++i) {
                    int l = nearestInt(0.5f * (id * xval[4 * k + i] - 1));
                    l = Math.max(0, Math.min(7, l));
                    u |= l << 3 * i;
                }
                int gridIndex = map[u];
                if (gridIndex < 0) gridIndex = bestNeighbour(gridIndex, xval, 4 * k, waux, scale, L, 4 * k);
                for (int i = 0; i < 4; ++i) L[4 * k + i] = (byte) (((int) q[4 * gridIndex + i] - 1) / 2);
            }
            float sumqx = 0, sumq2 = 0;
            for (int i = 0; i < 32; ++i) {
                float w = weight[i];
                float qi = 2 * L[i] + 1;
                sumqx += w * xval[i] * qi;
                sumq2 += w * qi * qi;
            }
            if (sumq2 > 0) scale = sumqx / sumq2;
        }
        return scale;
    }

    /** The grid index of the 4 levels at L[lo ..], which the search guarantees to be on the grid. */
    int indexOf(byte[] L, int lo) {
        int u = 0;
        for (int i = 0; i < 4; ++i) u |= L[lo + i] << 3 * i;
        int g = map[u];
        if (g < 0) throw new IllegalStateException("IQ3 levels " + Arrays.toString(Arrays.copyOfRange(L, lo, lo + 4)) + " are not on the grid");
        return g;
    }
}
