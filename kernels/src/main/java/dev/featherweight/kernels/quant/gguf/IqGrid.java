package dev.featherweight.kernels.quant.gguf;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One lattice of 8-weight grid points of the IQ2/IQ1 types and the lookup tables llama.cpp's
 * {@code iq2xs_init_impl} builds from it: the grid (each point = 8 levels 0..2), the map from a packed
 * point (8 × 2 bits) to its grid index, and for a point off the grid the list of its nearest grid points.
 *
 * <p>The grid points are data ({@code <family>-grid.txt} beside this class, llama.cpp's kgrid tables); the
 * map and neighbour lists are computed here as iq2xs_init_impl does: the neighbours of an off-grid point
 * are all grid points at the {@code nwant} smallest squared distances (levels mapped to 2l+1), ordered by
 * distance then index (qsort with {@code iq2_compare_func}), so ties resolve to the same grid point.
 * Only points whose levels are all ≤ 2 get a list: every quantizer clamps its levels to 0..2 before the
 * lookup, so the other entries of ggml's table are never read.
 */
final class IqGrid {
    /** Size of ggml's kmap table: packed points 0 .. 43691 (43690 = all levels 2). */
    static final int MAP_SIZE = 43692;

    /** Grid points. */
    final int size;
    /** The 8 levels (0..2) of grid point g at [8g .. 8g+8). */
    final byte[] levels;
    /** Packed levels → grid index (≥ 0), or −(offset + 1) of the point's neighbour list in {@link #neighbours}. */
    private final int[] map;
    /** Neighbour lists: at an offset, the count, then that many grid indices. */
    private final short[] neighbours;

    private IqGrid(String resource, int size, int nwant) {
        this.size = size;
        int[] packed = read(resource, size);
        levels = new byte[size * 8];
        map = new int[MAP_SIZE];
        Arrays.fill(map, -1);
        for (int g = 0; g < size; g++) {
            for (int i = 0; i < 8; i++) levels[8 * g + i] = (byte) ((packed[g] >> 2 * i) & 3);
            map[packed[g]] = g;
        }
        neighbours = buildNeighbours(nwant);
    }

    /** IQ2_XXS: 256 points, neighbours at the 2 nearest distances. */
    static IqGrid iq2xxs() {
        return Iq2xxs.GRID;
    }

    /** IQ2_XS: 512 points, 2 nearest distances. */
    static IqGrid iq2xs() {
        return Iq2xs.GRID;
    }

    /** IQ2_S: 1024 points, the nearest distance only. */
    static IqGrid iq2s() {
        return Iq2s.GRID;
    }

    /** IQ1_S and IQ1_M: 2048 points, 3 nearest distances. */
    static IqGrid iq1s() {
        return Iq1s.GRID;
    }

    // One holder per family: a grid (and its neighbour search) is built on first use only.
    private static final class Iq2xxs {
        static final IqGrid GRID = new IqGrid("iq2xxs-grid.txt", 256, 2);
    }

    private static final class Iq2xs {
        static final IqGrid GRID = new IqGrid("iq2xs-grid.txt", 512, 2);
    }

    private static final class Iq2s {
        static final IqGrid GRID = new IqGrid("iq2s-grid.txt", 1024, 1);
    }

    private static final class Iq1s {
        static final IqGrid GRID = new IqGrid("iq1s-grid.txt", 2048, 3);
    }

    /** The grid index of packed levels u, or −1 when u is not a grid point. */
    int indexOf(int u) {
        int g = map[u];
        return g >= 0 ? g : -1;
    }

    /** Offset of u's neighbour list (u must be off the grid). */
    int neighbourList(int u) {
        return -map[u] - 1;
    }

    int neighbourCount(int list) {
        return neighbours[list];
    }

    int neighbour(int list, int j) {
        return neighbours[list + j];
    }

    /**
     * {@code iq2_find_best_neighbour}: among u's neighbours the grid point minimizing Σ w·(scale·(2l+1) − x)²
     * (first one on ties), its levels written to L[lo ..]; returns its index.
     */
    int bestNeighbour(int u, float[] xval, int xo, float[] w, int wo, float scale, byte[] L, int lo) {
        int list = neighbourList(u);
        int count = neighbours[list];
        float bestD2 = Float.MAX_VALUE;
        int best = -1;
        for (int j = 1; j <= count; ++j) {
            int g = neighbours[list + j];
            float d2 = 0;
            for (int i = 0; i < 8; ++i) {
                float q = 2 * levels[8 * g + i] + 1;
                float diff = scale * q - xval[xo + i];
                d2 += w[wo + i] * diff * diff;
            }
            if (d2 < bestD2) {
                bestD2 = d2;
                best = g;
            }
        }
        if (best < 0) throw new IllegalStateException("no grid neighbour for point " + u + " (non-finite input?)");
        System.arraycopy(levels, 8 * best, L, lo, 8);
        return best;
    }

    /**
     * {@code iq1_find_best_neighbour2}: the neighbour minimizing Σ w·(scale·xg[l] − x)² with the shifted
     * level values xg of IQ1_S/IQ1_M; levels to L[lo ..]; returns its index.
     */
    int bestNeighbourShifted(int u, float[] x, int xo, float[] w, int wo, float scale, float[] xg, byte[] L, int lo) {
        int list = neighbourList(u);
        int count = neighbours[list];
        float bestD2 = Float.MAX_VALUE;
        int best = -1;
        for (int j = 1; j <= count; ++j) {
            int g = neighbours[list + j];
            float d2 = 0;
            for (int i = 0; i < 8; ++i) {
                float q = xg[levels[8 * g + i]];
                float diff = scale * q - x[xo + i];
                d2 += w[wo + i] * diff * diff;
            }
            if (d2 < bestD2) {
                bestD2 = d2;
                best = g;
            }
        }
        if (best < 0) throw new IllegalStateException("no grid neighbour for point " + u + " (non-finite input?)");
        System.arraycopy(levels, 8 * best, L, lo, 8);
        return best;
    }

    /** Packed levels of L[lo .. lo+8) (2 bits each, weight i at bits 2i). */
    static int pack(byte[] L, int lo) {
        int u = 0;
        for (int i = 0; i < 8; ++i) u |= L[lo + i] << 2 * i;
        return u;
    }

    private short[] buildNeighbours(int nwant) {
        // Squared distances are integers ≤ 8·(5−1)² = 128 for levels 0..2 (positions 1, 3, 5).
        int maxD2 = 8 * 16;
        short[] out = new short[1 << 20];
        int used = 0;
        int[] d2 = new int[size];
        int[] histogram = new int[maxD2 + 1];
        int[] pos = new int[8];
        for (int u = 0; u < MAP_SIZE; u++) {
            if (map[u] >= 0 || !levelsAtMostTwo(u)) continue;
            for (int k = 0; k < 8; k++) pos[k] = 2 * ((u >> 2 * k) & 3) + 1;
            Arrays.fill(histogram, 0);
            for (int g = 0; g < size; g++) {
                int s = 0;
                for (int k = 0; k < 8; k++) {
                    int diff = 2 * levels[8 * g + k] + 1 - pos[k];
                    s += diff * diff;
                }
                d2[g] = s;
                histogram[s]++;
            }
            int count = 0, distances = 0, limit = -1;
            for (int v = 0; v <= maxD2 && distances < nwant; v++) {
                if (histogram[v] == 0) continue;
                distances++;
                count += histogram[v];
                limit = v;
            }
            if (used + 1 + count > out.length) out = Arrays.copyOf(out, out.length * 2);
            map[u] = -(used + 1);
            out[used++] = (short) count;
            for (int v = 0; v <= limit; v++) {
                if (histogram[v] == 0) continue;
                for (int g = 0; g < size; g++) if (d2[g] == v) out[used++] = (short) g;
            }
        }
        return Arrays.copyOf(out, used);
    }

    private static boolean levelsAtMostTwo(int u) {
        for (int k = 0; k < 8; k++) if (((u >> 2 * k) & 3) == 3) return false;
        return true;
    }

    private static int[] read(String resource, int size) {
        try (InputStream in = IqGrid.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("grid resource " + resource + " missing from the classpath");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            int[] v = new int[size];
            int n = 0;
            for (String line; (line = r.readLine()) != null; ) {
                line = line.trim();
                if (line.isEmpty() || line.startsWith("#")) continue;
                for (String s : line.split("\\s+")) v[n++] = Integer.parseInt(s);
            }
            if (n != size) throw new IllegalStateException(resource + " has " + n + " grid points, expected " + size);
            return v;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
