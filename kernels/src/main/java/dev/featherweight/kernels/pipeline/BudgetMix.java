package dev.featherweight.kernels.pipeline;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.formats.gguf.GgufModelPlan;
import dev.featherweight.kernels.formats.gguf.GgufWriter;
import dev.featherweight.kernels.formats.gguf.ImportanceMatrix;
import dev.featherweight.kernels.quant.gguf.FileType;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodec;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodecs;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF mix for a size budget ({@code fw quantize --target-bpw / --target-bytes}): each quantizable tensor gets the
 * type, among the candidates, that makes the sum of the tensors' expected errors least while the file stays within
 * the budget.
 *
 * <p>Error of a tensor in a type: the tensor quantized exactly as it will be written (same codec, same importance), decoded,
 * and {@code Σ_rows Σ_j imp_j (w_ij − q_ij)²} with {@code imp} the imatrix entry (the mean of x_j² over the
 * calibration tokens), i.e. the expected squared error of the layer's output per token; without an imatrix
 * {@code imp = 1}. The token embedding is a row lookup, so its per-token error is the mean over its rows.
 *
 * <p>Allocation: an exact multiple-choice knapsack by dynamic programming over bytes, not greedy by marginal error per
 * byte. Greedy is optimal only when every tensor's error-vs-bytes curve is convex and the budget falls on a hull
 * vertex; the K-types' curves are not always convex (IQ4_NL and Q4_K cost the same bytes, Q3_K→Q4_K often gains more
 * than Q2_K→Q3_K) and greedy leaves bytes unused at the boundary. The DP is cheap: tensors × cells × types with at most
 * {@link #MAX_CELLS} cells of a byte unit fixed per model (the gcd of the options' sizes — 32 bytes or more for
 * K-types — coarsened only for models above a few MB per cell), so feather-3m solves to the byte, a 7B model in a
 * fraction of a second. Sizes are rounded up to the unit, so the file never exceeds the budget; the unit depends on the
 * model alone, so a larger budget can only lower the total error.
 *
 * <p>llama.cpp's fixed rules stay: the output tensor (the token embedding when it is tied) gets the K-mixes' type (Q6_K,
 * Q8_0 when its rows are not whole 256-blocks), norms and other 1-D tensors stay as they are, and a candidate whose
 * block does not divide a tensor's rows becomes llama-quantize's fallback type for it.
 */
public final class BudgetMix {
    /** At most this many byte cells in the DP (memory: tensors × cells bytes for the choices). */
    static final int MAX_CELLS = 100_000;
    /** Error is measured on at most this many rows per tensor (evenly spaced), scaled to all rows. */
    static final int MAX_SAMPLED_ROWS = 2048;

    private BudgetMix() {
    }

    /** The types tried for every tensor: the K-types, Q8_0 and every IQ type with a codec (when its imatrix need is met). */
    public static List<GgmlType> defaultCandidates(boolean hasImatrix) {
        List<GgmlType> c = new ArrayList<>(List.of(GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_0));
        for (GgmlType t : GgufBlockCodecs.supported()) {
            if (t.name().startsWith("IQ") && (hasImatrix || !LlamaQuantize.needsImatrix(t, ""))) c.add(t);
        }
        return c;
    }

    /** A size budget: the whole file in bytes, or the tensors' bits per weight as {@code fw quantize} reports it. */
    public sealed interface Budget {
        record FileBytes(long bytes) implements Budget {
        }

        record BitsPerWeight(double bpw) implements Budget {
        }
    }

    /** One way to store a tensor: type, bytes as the budget counts them, expected error. */
    public record Option(GgmlType type, long bytes, double error) {
    }

    /** A tensor the allocation chooses a type for. */
    public record TensorOptions(String name, List<Option> options) {
    }

    /** The chosen option per tensor (in the given order), their bytes and total error. */
    public record Allocation(List<Option> chosen, long bytes, double error) {
    }

    /** A planned mix: the type of every quantizable tensor, the label, the file size it will have, the expected error. */
    public record Mix(LinkedHashMap<String, GgmlType> types, FileType label, long fileBytes, long tensorBytes, long weights,
                      double error, List<TensorOptions> measured) {
        public double bitsPerWeight() {
            return tensorBytes * 8.0 / weights;
        }
    }

    /** Measures every free tensor's options and allocates them within the budget. */
    public static Mix plan(GgufModelPlan plan, Budget budget, ImportanceMatrix imatrix, String imatrixFileName, List<GgmlType> candidates,
                           int threads) {
        return allocateMix(plan, budget, imatrix, imatrixFileName, measure(plan, imatrix, candidates, threads));
    }

    /** Allocates already measured options (so several budgets share one measurement). */
    public static Mix allocateMix(GgufModelPlan plan, Budget budget, ImportanceMatrix imatrix, String imatrixFileName, List<TensorOptions> measured) {
        List<GgufModelPlan.SourceTensor> ordered = LlamaQuantize.ordered(plan);
        Map<String, GgmlType> fixed = fixedTypes(plan);
        var metadata = LlamaQuantize.metadata(plan, FileType.Q4_K_M, imatrix, imatrixFileName);
        int alignment = GgufWriter.alignment(metadata);
        boolean fileBudget = budget instanceof Budget.FileBytes;
        long weights = 0, fixedBytes = 0;
        List<GgufWriter.Entry> fixedEntries = new ArrayList<>();
        for (var t : ordered) {
            weights += t.elements();
            GgmlType type = fixed.get(t.name());
            GgufWriter.Entry e = new GgufWriter.Entry(t.name(), type == null ? GgmlType.F32 : type, t.ne(), null);
            fixedEntries.add(e);
            if (type != null) fixedBytes += fileBudget ? GgufWriter.pad(e.bytes(), alignment) : e.bytes();
        }
        long capacity = switch (budget) {
            case Budget.FileBytes(long bytes) -> {
                // header and infos do not depend on the types: size them once with any types
                long header = GgufWriter.fileSize(metadata, fixedEntries);
                for (GgufWriter.Entry e : fixedEntries) header -= GgufWriter.pad(e.bytes(), alignment);
                yield bytes - header - fixedBytes;
            }
            case Budget.BitsPerWeight(double bpw) -> (long) Math.floor(bpw * weights / 8.0) - fixedBytes;
        };
        List<TensorOptions> groups = measured;
        if (fileBudget) {
            groups = measured.stream().map(g -> new TensorOptions(g.name(), g.options().stream()
                    .map(o -> new Option(o.type(), GgufWriter.pad(o.bytes(), alignment), o.error())).toList())).toList();
        }
        Allocation a = allocate(groups, capacity);
        LinkedHashMap<String, GgmlType> types = new LinkedHashMap<>();
        Map<GgmlType, Long> weightsByType = new EnumMap<>(GgmlType.class);
        long tensorBytes = 0;
        Map<String, Option> byName = new LinkedHashMap<>();
        for (int i = 0; i < groups.size(); i++) byName.put(groups.get(i).name(), a.chosen().get(i));
        List<GgufWriter.Entry> entries = new ArrayList<>();
        for (var t : ordered) {
            Option o = byName.get(t.name());
            GgmlType type = o != null ? o.type() : fixed.get(t.name());
            if (LlamaQuantize.isQuantizable(t)) {
                types.put(t.name(), type);
                weightsByType.merge(type, t.elements(), Long::sum);
            }
            GgufWriter.Entry e = new GgufWriter.Entry(t.name(), type, t.ne(), null);
            entries.add(e);
            tensorBytes += e.bytes();
        }
        FileType label = label(weightsByType);
        long fileBytes = GgufWriter.fileSize(LlamaQuantize.metadata(plan, label, imatrix, imatrixFileName), entries);
        return new Mix(types, label, fileBytes, tensorBytes, weights, a.error(), measured);
    }

    /**
     * Types the allocation does not choose: the output tensor's (llama.cpp's K-mix rule, via {@link LlamaQuantize#mixTypes})
     * and every tensor llama-quantize does not quantize (its own type).
     */
    static Map<String, GgmlType> fixedTypes(GgufModelPlan plan) {
        Map<String, GgmlType> rules = LlamaQuantize.mixTypes(plan, FileType.Q4_K_M, false);
        boolean hasOutput = plan.tensor("output.weight") != null;
        Map<String, GgmlType> fixed = new LinkedHashMap<>();
        for (var t : plan.tensors()) {
            if (!LlamaQuantize.isQuantizable(t)) fixed.put(t.name(), t.type());
            else if (isOutput(t.name(), hasOutput)) fixed.put(t.name(), rules.get(t.name()));
        }
        return fixed;
    }

    private static boolean isOutput(String name, boolean hasOutput) {
        return name.equals("output.weight") || (!hasOutput && name.equals("token_embd.weight"));
    }

    /** Each free tensor's options: distinct types after the row-size fallback, with their bytes and measured error. */
    public static List<TensorOptions> measure(GgufModelPlan plan, ImportanceMatrix imatrix, List<GgmlType> candidates, int threads) {
        Map<String, GgmlType> fixed = fixedTypes(plan);
        List<TensorOptions> groups = new ArrayList<>();
        for (var t : LlamaQuantize.ordered(plan)) {
            if (fixed.containsKey(t.name())) continue;
            long nx = t.rowLength();
            List<GgmlType> types = new ArrayList<>();
            for (GgmlType c : candidates) {
                GgmlType type;
                try {
                    type = LlamaQuantize.fallbackType(t.name(), nx, c);
                } catch (LlamaQuantize.UnsupportedTensorSizeException e) {
                    continue;
                }
                if (!types.contains(type) && type.isQuantized()) types.add(type);
            }
            float[] importance = imatrix == null ? null : imatrix.weights(t.name());
            if (importance == null) types.removeIf(type -> LlamaQuantize.needsImatrix(type, t.name()));
            if (types.isEmpty()) throw new IllegalArgumentException("no candidate type fits the rows of " + t.name() + " (" + nx + " weights)");
            SampledRows rows = SampledRows.of(t);
            double perRow = t.name().equals("token_embd.weight") ? 1.0 / t.rowCount() : 1.0;
            List<Option> options = new ArrayList<>();
            for (GgmlType type : types) {
                long bytes = type.rowBytes(nx) * t.rowCount();
                options.add(new Option(type, bytes, rows.error(type, importance, threads) * perRow));
            }
            options.sort(Comparator.comparingLong(Option::bytes).thenComparingDouble(Option::error));
            groups.add(new TensorOptions(t.name(), options));
        }
        return groups;
    }

    /** Evenly spaced rows of a tensor on the heap, and the weighted squared error of their round trip through a type. */
    private record SampledRows(float[] data, int rows, int n, double scale) {
        static SampledRows of(GgufModelPlan.SourceTensor t) {
            int n = (int) t.rowLength();
            long total = t.rowCount();
            int rows = (int) Math.min(total, MAX_SAMPLED_ROWS);
            float[] data = new float[rows * n];
            float[] row = new float[n];
            for (int i = 0; i < rows; i++) {
                t.rows().read(i * total / rows, row);
                System.arraycopy(row, 0, data, i * n, n);
            }
            return new SampledRows(data, rows, n, (double) total / rows);
        }

        double error(GgmlType type, float[] importance, int threads) {
            GgufBlockCodec codec = GgufBlockCodecs.of(type);
            long rowBytes = codec.rowBytes(n);
            MemorySegment q = MemorySegment.ofArray(new byte[Math.toIntExact(rowBytes * rows)]);
            GgufBlockCodecs.quantizeRows(codec, data, 0, rows, n, q, 0, importance, threads);
            float[] back = new float[n];
            double sum = 0;
            for (int r = 0; r < rows; r++) {
                codec.dequantizeRow(q, r * rowBytes, back, 0, n);
                for (int j = 0; j < n; j++) {
                    double d = data[r * n + j] - back[j];
                    sum += (importance == null ? 1.0 : importance[j]) * d * d;
                }
            }
            return sum * scale;
        }
    }

    /**
     * The multiple-choice knapsack: one option per group, total bytes ≤ {@code capacityBytes}, least total error.
     *
     * @throws IllegalArgumentException when even the smallest options exceed the capacity
     */
    public static Allocation allocate(List<TensorOptions> groups, long capacityBytes) {
        long unit = unit(groups);
        long minBytes = 0, maxUnits = 0;
        for (TensorOptions g : groups) {
            minBytes += g.options().stream().mapToLong(Option::bytes).min().orElseThrow();
            maxUnits += g.options().stream().mapToLong(o -> ceilDiv(o.bytes(), unit)).max().orElseThrow();
        }
        int cap = (int) Math.min(Math.max(-1, Math.floorDiv(capacityBytes, unit)), maxUnits);
        int g = groups.size();
        int[][] costs = new int[g][];
        for (int i = 0; i < g; i++) costs[i] = groups.get(i).options().stream().mapToInt(o -> (int) ceilDiv(o.bytes(), unit)).toArray();
        double[] best = new double[cap + 1];
        byte[][] choice = new byte[g][cap + 1];
        for (int i = 0; i < g; i++) {
            double[] next = new double[cap + 1];
            java.util.Arrays.fill(next, Double.POSITIVE_INFINITY);
            List<Option> opts = groups.get(i).options();
            for (int o = 0; o < opts.size(); o++) {
                int cost = costs[i][o];
                double err = opts.get(o).error();
                for (int c = cost; c <= cap; c++) {
                    double v = best[c - cost] + err;
                    if (v < next[c]) {
                        next[c] = v;
                        choice[i][c] = (byte) o;
                    }
                }
            }
            best = next;
        }
        if (cap < 0 || best[cap] == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("the budget leaves " + capacityBytes + " bytes for the quantized tensors; the smallest types need "
                    + minBytes);
        }
        Option[] chosen = new Option[g];
        int c = cap;
        long bytes = 0;
        double error = 0;
        for (int i = g - 1; i >= 0; i--) {
            int o = choice[i][c];
            chosen[i] = groups.get(i).options().get(o);
            c -= costs[i][o];
            bytes += chosen[i].bytes();
            error += chosen[i].error();
        }
        return new Allocation(List.of(chosen), bytes, error);
    }

    /** The DP's byte cell: the gcd of every option's size, coarsened (to a multiple of it) only above {@link #MAX_CELLS} cells. */
    static long unit(List<TensorOptions> groups) {
        long gcd = 0, maxTotal = 0;
        for (TensorOptions g : groups) {
            long max = 0;
            for (Option o : g.options()) {
                gcd = gcd(gcd, o.bytes());
                max = Math.max(max, o.bytes());
            }
            maxTotal += max;
        }
        if (gcd == 0) return 1;
        long min = ceilDiv(maxTotal, MAX_CELLS);
        return gcd >= min ? gcd : ceilDiv(min, gcd) * gcd;
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }

    /** general.file_type of a mix: the file type whose default type holds the most weights (llama.cpp's loader guesses it so). */
    static FileType label(Map<GgmlType, Long> weightsByType) {
        GgmlType most = weightsByType.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(GgmlType.Q4_K);
        FileType any = null;
        for (FileType f : FileType.values()) {
            if (f.defaultType != most) continue;
            if (f.name().endsWith("_M") || f.name().equals(most.name())) return f;
            if (any == null) any = f;
        }
        return any != null ? any : FileType.Q4_K_M;
    }
}
