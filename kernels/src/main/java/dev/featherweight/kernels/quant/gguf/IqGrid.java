package dev.featherweight.kernels.quant.gguf;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

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
    /**
     * The neighbours' levels as floats, transposed for the lanes: for the list at offset o with c entries, weight i of
     * neighbour j is at [8o + i·c + j].
     */
    private final float[] neighbourLevels;
    /** The longest neighbour list. */
    private final int maxNeighbours;

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ThreadLocal<float[]> DISTANCES = ThreadLocal.withInitial(() -> new float[0]);

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
        neighbourLevels = new float[8 * neighbours.length];
        int longest = 0;
        for (int u = 0; u < MAP_SIZE; u++) {
            if (map[u] >= 0 || !levelsAtMostTwo(u)) continue;
            int o = -map[u] - 1, c = neighbours[o];
            longest = Math.max(longest, c);
            for (int j = 0; j < c; j++) {
                for (int i = 0; i < 8; i++) neighbourLevels[8 * o + i * c + j] = levels[8 * neighbours[o + 1 + j] + i];
            }
        }
        maxNeighbours = longest;
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

    /**
     * {@code iq2_find_best_neighbour}: among u's neighbours the grid point minimizing Σ w·(scale·(2l+1) − x)²
     * (first one on ties), its levels written to L[lo ..]; returns its index. The neighbours are scored a vector of
     * lanes at a time, each lane summing its 8 terms in ggml's order with the same float operations (no fused
     * multiply-add), so every distance has ggml's bits; the first minimum is then picked in list order.
     */
    int bestNeighbour(int u, float[] xval, int xo, float[] w, int wo, float scale, byte[] L, int lo) {
        int list = neighbourList(u);
        int count = neighbours[list];
        float[] d2 = distances();
        int base = 8 * list;
        for (int j0 = 0; j0 < count; j0 += S.length()) {
            VectorMask<Float> m = S.indexInRange(j0, count);
            FloatVector acc = FloatVector.zero(S);
            for (int i = 0; i < 8; ++i) {
                FloatVector q = FloatVector.fromArray(S, neighbourLevels, base + i * count + j0, m).mul(2f).add(1f);
                FloatVector diff = q.mul(scale).sub(xval[xo + i]);
                acc = acc.add(diff.mul(w[wo + i]).mul(diff));
            }
            acc.intoArray(d2, j0, m);
        }
        return pickFirstMinimum(list, count, d2, L, lo);
    }

    /**
     * {@code iq1_find_best_neighbour2}: the neighbour minimizing Σ w·(scale·xg[l] − x)² with the shifted
     * level values xg of IQ1_S/IQ1_M (lanes as in {@link #bestNeighbour}); levels to L[lo ..]; returns its index.
     */
    int bestNeighbourShifted(int u, float[] x, int xo, float[] w, int wo, float scale, float[] xg, byte[] L, int lo) {
        int list = neighbourList(u);
        int count = neighbours[list];
        float[] d2 = distances();
        int base = 8 * list;
        FloatVector v0 = FloatVector.broadcast(S, xg[0]), v1 = FloatVector.broadcast(S, xg[1]), v2 = FloatVector.broadcast(S, xg[2]);
        for (int j0 = 0; j0 < count; j0 += S.length()) {
            VectorMask<Float> m = S.indexInRange(j0, count);
            FloatVector acc = FloatVector.zero(S);
            for (int i = 0; i < 8; ++i) {
                FloatVector level = FloatVector.fromArray(S, neighbourLevels, base + i * count + j0, m);
                FloatVector q = v0.blend(v1, level.compare(VectorOperators.EQ, 1f)).blend(v2, level.compare(VectorOperators.EQ, 2f));
                FloatVector diff = q.mul(scale).sub(x[xo + i]);
                acc = acc.add(diff.mul(w[wo + i]).mul(diff));
            }
            acc.intoArray(d2, j0, m);
        }
        return pickFirstMinimum(list, count, d2, L, lo);
    }

    private int pickFirstMinimum(int list, int count, float[] d2, byte[] L, int lo) {
        float bestD2 = Float.MAX_VALUE;
        int best = -1;
        for (int j = 0; j < count; ++j) {
            if (d2[j] < bestD2) {
                bestD2 = d2[j];
                best = neighbours[list + 1 + j];
            }
        }
        if (best < 0) throw new IllegalStateException("no grid neighbour (non-finite input?)");
        System.arraycopy(levels, 8 * best, L, lo, 8);
        return best;
    }

    private float[] distances() {
        float[] d = DISTANCES.get();
        if (d.length < maxNeighbours + S.length()) {
            d = new float[maxNeighbours + S.length()];
            DISTANCES.set(d);
        }
        return d;
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
