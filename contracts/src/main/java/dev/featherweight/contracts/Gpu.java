package dev.featherweight.contracts;

import java.util.List;
import java.util.Locale;

/**
 * A GPU of the catalog: shared reference data (job specs name GPUs, the gateway lists them, workers
 * simulate one). The GPU a worker pretends to have: memory to budget against and a roofline to turn FLOPs and bytes into
 * seconds ({@code max(flops / peak, bytes / bandwidth)}). Numbers are the vendors' data-sheet figures
 * (dense FP16 tensor throughput, no sparsity).
 */
public record Gpu(String name, long memoryBytes, double bandwidthBytesPerSecond, double fp16FlopsPerSecond) {
    static final long GB = 1_000_000_000L;

    /** Until the kernels' catalog (capacity package) is wired in: the same figures as issue 5 lists. */
    public static final List<Gpu> CATALOG = List.of(
            new Gpu("A100-40GB-PCIe", 40 * GB, 1555e9, 312e12),
            new Gpu("A100-80GB-SXM", 80 * GB, 2039e9, 312e12),
            new Gpu("H100-80GB-SXM", 80 * GB, 3350e9, 989e12),
            new Gpu("H100-80GB-PCIe", 80 * GB, 2000e9, 756e12),
            new Gpu("H200-141GB", 141 * GB, 4800e9, 989e12),
            new Gpu("L4", 24 * GB, 300e9, 121e12),
            new Gpu("L40S", 48 * GB, 864e9, 362e12),
            new Gpu("A10", 24 * GB, 600e9, 125e12),
            new Gpu("T4", 16 * GB, 320e9, 65e12),
            new Gpu("RTX-4090", 24 * GB, 1008e9, 165e12),
            new Gpu("MI300X", 192 * GB, 5300e9, 1307e12));

    public static Gpu named(String name) {
        return CATALOG.stream().filter(g -> g.name.equalsIgnoreCase(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown GPU '" + name + "'; one of "
                        + CATALOG.stream().map(Gpu::name).toList()));
    }

    public double seconds(double flops, double bytes) {
        return Math.max(flops / fp16FlopsPerSecond, bytes / bandwidthBytesPerSecond);
    }

    public static boolean known(String name) {
        return CATALOG.stream().anyMatch(g -> g.name.equalsIgnoreCase(name));
    }

    /** Bytes in decimal GB, as GPU vendors state memory. */
    public static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.2f GB", bytes / (double) GB);
    }
}
