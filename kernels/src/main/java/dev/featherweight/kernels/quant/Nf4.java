package dev.featherweight.kernels.quant;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * bitsandbytes 4-bit weights, NF4 and FP4 (bitsandbytes/functional.py {@code quantize_4bit}, CUDA
 * {@code kQuantizeBlockwise} with {@code dQuantizeNF4}/{@code dQuantizeFP4}): the flattened weight is cut into
 * blocks of 64; each block is divided by its absolute maximum (multiplied by 1/absmax, as the kernel does) and
 * every value maps to the nearest of 16 code values (a value above the midpoint of two neighbours takes the
 * upper one, the kernels' {@code x > threshold} decision tree). Two codes per byte, the first element in the
 * high nibble. FP4's sign is bit 3 of its code.
 *
 * <p>Double quantization ({@code compress_statistics=True}): the fp32 absmax vector minus its mean (the
 * {@code offset}) is quantized with {@code quantize_blockwise} — blocks of 256, each divided by its own absmax
 * and mapped to the nearest of the 256 values of {@code create_dynamic_map(signed=True)}; the 256-entry code and
 * the per-256-block absmax ({@code nested_absmax}) are stored beside the uint8 absmax codes.
 */
public final class Nf4 {
    private Nf4() {
    }

    public static final int BLOCK = 64;
    public static final int NESTED_BLOCK = 256;

    /** bitsandbytes get_4bit_type("nf4"): quantiles of N(0, 1) normalized to [−1, 1], exact float32 values. */
    public static final float[] NF4 = {
            -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
            -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
            0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f,
            0.7229568362236023f, 1.0f};

    /** bitsandbytes get_4bit_type("fp4"): sign bit 3, E2M1 magnitudes {0, 0.0625, 8, 12, 4, 6, 2, 3} / 12. */
    public static final float[] FP4 = fp4();

    private static float[] fp4() {
        float[] m = {0f, 0.0625f, 8f, 12f, 4f, 6f, 2f, 3f};
        float[] c = new float[16];
        for (int i = 0; i < 8; i++) {
            c[i] = m[i] / 12f;
            c[i + 8] = -m[i] / 12f;
        }
        return c;
    }

    /** FP4 codes 0 … 7 in ascending magnitude, and the midpoints between neighbours. */
    private static final int[] FP4_ORDER = {0, 1, 6, 7, 4, 5, 2, 3};
    private static final float[] FP4_MIDS = new float[7];

    static {
        for (int i = 0; i < 7; i++) FP4_MIDS[i] = (float) (((double) FP4[FP4_ORDER[i]] + FP4[FP4_ORDER[i + 1]]) / 2);
    }

    public enum Type {
        NF4("nf4", Nf4.NF4), FP4("fp4", Nf4.FP4);

        public final String label;
        private final float[] code;
        private final float[] sorted, mids;
        private final int[] sortedIndex;

        Type(String label, float[] code) {
            this.label = label;
            this.code = code;
            Integer[] order = new Integer[16];
            for (int i = 0; i < 16; i++) order[i] = i;
            // FP4 has +0 and −0: keep +0 (the kernel's positive branch) as the one that ties resolve to
            java.util.Arrays.sort(order, (a, b) -> {
                int cmp = Float.compare(code[a], code[b]);
                return cmp != 0 ? cmp : Integer.compare(a, b);
            });
            java.util.List<Integer> uniq = new java.util.ArrayList<>();
            for (int i : order) if (uniq.isEmpty() || code[uniq.getLast()] != code[i]) uniq.add(i);
            sortedIndex = uniq.stream().mapToInt(Integer::intValue).toArray();
            sorted = new float[sortedIndex.length];
            for (int i = 0; i < sorted.length; i++) sorted[i] = code[sortedIndex[i]];
            mids = new float[sorted.length - 1];
            for (int i = 0; i < mids.length; i++) mids[i] = (float) (((double) sorted[i] + sorted[i + 1]) / 2);
        }

        public float[] code() {
            return code.clone();
        }

        public float value(int q) {
            return code[q];
        }

        /** The code of a normalized value in [−1, 1]: x above a midpoint takes the upper neighbour. */
        public int quantize(float x) {
            if (this == FP4) {
                // sign and magnitude separately, as dQuantizeFP4 does: codes 0 … 7 are the positive magnitudes
                int sign = x < 0 ? 8 : 0;
                float a = Math.abs(x);
                int k = 0;
                for (int i = 0; i < FP4_MIDS.length; i++) if (a > FP4_MIDS[i]) k = i + 1;
                return FP4_ORDER[k] | sign;
            }
            int k = 0;
            for (int i = 0; i < mids.length; i++) if (x > mids[i]) k = i + 1;
            return sortedIndex[k];
        }
    }

    /** 4-bit weight of {@code n} elements: packed codes (⌈n/2⌉ bytes), one absmax per 64 values. */
    public record Weight(Type type, long[] shape, byte[] packed, float[] absmax) {
        public int n() {
            long n = 1;
            for (long d : shape) n *= d;
            return Math.toIntExact(n);
        }

        public int code(int i) {
            int b = packed[i >> 1] & 0xFF;
            return (i & 1) == 0 ? b >>> 4 : b & 0xF;
        }

        public float dequantize(int i, float[] absmaxUsed) {
            return type.value(code(i)) * absmaxUsed[i / BLOCK];
        }

        /** Dequantized weights with the fp32 absmax. */
        public float[] dequantize() {
            return dequantize(absmax);
        }

        public float[] dequantize(float[] absmaxUsed) {
            float[] w = new float[n()];
            for (int i = 0; i < w.length; i++) w[i] = dequantize(i, absmaxUsed);
            return w;
        }
    }

    /** The double-quantized absmax: uint8 codes, per-256-block absmax, the 256-value dynamic code, the offset. */
    public record NestedAbsmax(byte[] codes, float[] nestedAbsmax, float[] nestedCode, float offset) {
        /** absmax ≈ code[q] · nested_absmax[block] + offset, as dequantize_blockwise + offset. */
        public float[] dequantize() {
            float[] a = new float[codes.length];
            for (int i = 0; i < a.length; i++) a[i] = nestedCode[codes[i] & 0xFF] * nestedAbsmax[i / NESTED_BLOCK] + offset;
            return a;
        }
    }

    public static Weight quantize(float[] w, long[] shape, Type type) {
        int n = w.length, blocks = (n + BLOCK - 1) / BLOCK;
        byte[] packed = new byte[(n + 1) / 2];
        float[] absmax = new float[blocks];
        float[] counts = new float[BLOCK];
        for (int b = 0; b < blocks; b++) {
            int i0 = b * BLOCK, i1 = Math.min(n, i0 + BLOCK);
            if (i1 - i0 == BLOCK && BLOCK % S.length() == 0) {
                absmax[b] = quantizeFullBlock(w, i0, type, counts, packed);
                continue;
            }
            float m = 0;
            for (int i = i0; i < i1; i++) m = Math.max(m, Math.abs(w[i]));
            absmax[b] = m;
            float inv = m == 0 ? 0 : 1f / m;
            for (int i = i0; i < i1; i++) {
                int q = type.quantize(w[i] * inv);
                packed[i >> 1] |= (byte) ((i & 1) == 0 ? q << 4 : q);
            }
        }
        return new Weight(type, shape, packed, absmax);
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /**
     * One block of 64 in vector lanes, the same decisions as {@link Type#quantize}: the code's rank is the number of
     * midpoints strictly below x (below |x| for FP4, whose sign is bit 3), counted with one compare per midpoint.
     */
    private static float quantizeFullBlock(float[] w, int i0, Type type, float[] counts, byte[] packed) {
        int L = S.length();
        FloatVector mv = FloatVector.zero(S);
        for (int j = 0; j < BLOCK; j += L) mv = mv.max(FloatVector.fromArray(S, w, i0 + j).abs());
        float m = mv.reduceLanes(VectorOperators.MAX);
        float inv = m == 0 ? 0 : 1f / m;
        boolean fp4 = type == Type.FP4;
        float[] mids = fp4 ? FP4_MIDS : type.mids;
        FloatVector one = FloatVector.broadcast(S, 1f), eight = FloatVector.broadcast(S, 8f);
        for (int j = 0; j < BLOCK; j += L) {
            FloatVector x = FloatVector.fromArray(S, w, i0 + j).mul(inv);
            FloatVector a = fp4 ? x.abs() : x;
            FloatVector k = FloatVector.zero(S);
            for (float mid : mids) k = k.add(one, a.compare(VectorOperators.GT, mid));
            if (fp4) k = k.add(eight, x.compare(VectorOperators.LT, 0f));   // sign flag in the count's 8s
            k.intoArray(counts, j);
        }
        for (int j = 0; j < BLOCK; j += 2) {
            packed[(i0 + j) >> 1] = (byte) (code(type, counts[j]) << 4 | code(type, counts[j + 1]));
        }
        return m;
    }

    private static int code(Type type, float count) {
        int k = (int) count;
        return type == Type.FP4 ? FP4_ORDER[k & 7] | (k & 8) : type.sortedIndex[k];
    }

    /** bitsandbytes create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8), in float32, sorted. */
    public static float[] dynamicMap() {
        float[] data = new float[256];
        int k = 0;
        for (int i = 0; i < 7; i++) {
            int items = (1 << i) + 1;
            float[] bounds = linspace(0.1f, 1f, items);
            double p = Math.pow(10, -(7 - 1) + i);
            for (int j = 0; j + 1 < items; j++) {
                float mean = (bounds[j] + bounds[j + 1]) / 2f;
                data[k++] = (float) (p * mean);
                data[k++] = (float) (-p * mean);
            }
        }
        data[k++] = 0f;
        data[k++] = 1f;
        java.util.Arrays.sort(data, 0, k);
        if (k != 256) throw new IllegalStateException("dynamic map has " + k + " values");
        return data;
    }

    /** torch.linspace in float32: start + i·step for the first half, end − (steps−1−i)·step for the rest. */
    private static float[] linspace(float start, float end, int steps) {
        float[] v = new float[steps];
        if (steps == 1) {
            v[0] = start;
            return v;
        }
        float step = (end - start) / (steps - 1);
        int half = steps / 2;
        for (int i = 0; i < steps; i++) v[i] = i < half ? start + step * i : end - step * (steps - 1 - i);
        return v;
    }

    /** Double quantization of an fp32 absmax vector. */
    public static NestedAbsmax doubleQuantize(float[] absmax) {
        double sum = 0;
        for (float a : absmax) sum += a;
        float offset = (float) (sum / absmax.length);
        float[] code = dynamicMap();
        int n = absmax.length, blocks = (n + NESTED_BLOCK - 1) / NESTED_BLOCK;
        byte[] q = new byte[n];
        float[] nested = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            int i0 = b * NESTED_BLOCK, i1 = Math.min(n, i0 + NESTED_BLOCK);
            float m = 0;
            for (int i = i0; i < i1; i++) m = Math.max(m, Math.abs(absmax[i] - offset));
            nested[b] = m;
            float inv = m == 0 ? 0 : 1f / m;
            for (int i = i0; i < i1; i++) q[i] = (byte) nearest(code, (absmax[i] - offset) * inv);
        }
        return new NestedAbsmax(q, nested, code, offset);
    }

    /** Index of the code value nearest to x (binary search, ties to the upper value). */
    static int nearest(float[] sorted, float x) {
        int lo = 0, hi = sorted.length - 1;
        if (x <= sorted[lo]) return lo;
        if (x >= sorted[hi]) return hi;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= x) lo = mid;
            else hi = mid;
        }
        return (x - sorted[lo]) < (sorted[hi] - x) ? lo : hi;
    }

    /** Storage bits per weight: 4 + 32/64 without, 4 + 8/64 + 32/(64·256) with double quantization (large n). */
    public static double bitsPerWeight(long n, boolean doubleQuant) {
        long blocks = (n + BLOCK - 1) / BLOCK;
        double bits = 8.0 * ((n + 1) / 2);
        if (doubleQuant) bits += 8.0 * blocks + 32.0 * ((blocks + NESTED_BLOCK - 1) / NESTED_BLOCK) + 32 + 32 * 256;
        else bits += 32.0 * blocks + 32 * 16;
        return bits / n;
    }
}
