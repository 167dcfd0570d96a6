package dev.featherweight.worker;

import java.util.List;
import java.util.Locale;

/**
 * The GPU a worker pretends to have: memory to budget against and a roofline to turn FLOPs and bytes into
 * seconds ({@code max(flops / peak, bytes / bandwidth)}). Numbers are the vendors' data-sheet figures
 * (dense FP16 tensor throughput, no sparsity).
 */
public record SimulatedGpu(String name, long memoryBytes, double bandwidthBytesPerSecond, double fp16FlopsPerSecond) {
    static final long GIB = 1L << 30;

    public static final List<SimulatedGpu> CATALOG = List.of(
            new SimulatedGpu("T4", 16 * GIB, 320e9, 65e12),
            new SimulatedGpu("L4", 24 * GIB, 300e9, 121e12),
            new SimulatedGpu("RTX-4090", 24 * GIB, 1008e9, 165e12),
            new SimulatedGpu("A10G", 24 * GIB, 600e9, 125e12),
            new SimulatedGpu("A100-40GB-PCIe", 40 * GIB, 1555e9, 312e12),
            new SimulatedGpu("A100-80GB-SXM", 80 * GIB, 2039e9, 312e12),
            new SimulatedGpu("H100-80GB-SXM", 80 * GIB, 3350e9, 989e12));

    public static SimulatedGpu named(String name) {
        return CATALOG.stream().filter(g -> g.name.equalsIgnoreCase(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("featherweight.worker.gpu: unknown GPU '" + name + "'; one of "
                        + CATALOG.stream().map(SimulatedGpu::name).toList()));
    }

    public double seconds(double flops, double bytes) {
        return Math.max(flops / fp16FlopsPerSecond, bytes / bandwidthBytesPerSecond);
    }

    public static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) GIB);
    }
}
