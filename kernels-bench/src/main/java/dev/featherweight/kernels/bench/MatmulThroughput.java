package dev.featherweight.kernels.bench;

import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.VectorWidth;
import dev.featherweight.kernels.infer.BlockMatrix;
import dev.featherweight.kernels.quant.gguf.Q8Activations;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.core.GgmlType;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The MatmulBench measurement without JMH, for shared machines: besides wall-clock GFLOP/s it reports
 * CPU-normalized GFLOP/s = flops / (process CPU seconds / threads), what the kernel does when it has the
 * cores to itself (includes JIT and GC time, so it is a lower bound). With 1 thread every product runs on the calling
 * thread, and its own CPU time is used instead (no JIT or GC threads: the figure to compare kernels on a loaded machine).
 *
 * <p>With {@code llamacpp} as the last argument the types that have an integer dot (Q8_0, Q4_0, Q4_K, Q6_K) run it:
 * activations quantized to Q8_0/Q8_K blocks on every call (included in the time), then
 * {@link BlockMatrix#matmul(Q8Activations, int, float[], Parallel)}; the other types keep the float path.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp $CP dev.featherweight.kernels.bench.MatmulThroughput [types] [shapes] [nTokens] [threads] [seconds] [fp32|llamacpp]</pre>
 */
public final class MatmulThroughput {
    public static void main(String[] args) {
        String[] types = (args.length > 0 ? args[0] : "F32,F16,BF16,Q8_0,Q4_0,Q4_1,Q5_0,Q5_1,Q2_K,Q3_K,Q4_K,Q5_K,Q6_K,IQ4_NL").split(",");
        String[] shapes = (args.length > 1 ? args[1] : "4096x4096,14336x4096").split(",");
        String[] batches = (args.length > 2 ? args[2] : "1,256").split(",");
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        double seconds = args.length > 4 ? Double.parseDouble(args[4]) : 2;
        boolean integerDots = args.length > 5 && args[5].equals("llamacpp");
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        System.out.printf(Locale.ROOT, "%s, %d threads, vectors %s, %s%n", PerplexityBench.cpu(), threads, VectorWidth.describe(),
                integerDots ? "integer dots on Q8 activations where the type has one" : "fp32 activations");
        System.out.printf(Locale.ROOT, "%-6s %-11s %6s %12s %14s %6s%n", "type", "rows x cols", "tokens", "wall GFLOP/s", "cpu-norm GFLOP/s", "load");
        try (Parallel pool = new Parallel(threads); Arena arena = Arena.ofShared()) {
            for (String shape : shapes) {
                String[] rc = shape.split("x");
                int rows = Integer.parseInt(rc[0]), cols = Integer.parseInt(rc[1]);
                for (String ty : types) {
                    WeightMatrix w = MatmulBench.randomMatrix(GgmlType.valueOf(ty.trim()), rows, cols, 7, arena);
                    for (String b : batches) {
                        int n = Integer.parseInt(b.trim());
                        float[] x = new float[n * cols], out = new float[n * rows];
                        SplittableRandom r = new SplittableRandom(11);
                        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
                        Runnable product = () -> w.matmul(x, n, out, pool);
                        if (integerDots && w instanceof BlockMatrix bm && bm.q8BlockSize() != 0) {
                            Q8Activations q = new Q8Activations();
                            product = () -> {
                                q.quantize(bm.q8BlockSize(), x, n, cols);
                                bm.matmul(q, n, out, pool);
                            };
                        }
                        long warm = System.nanoTime();
                        while (System.nanoTime() - warm < seconds * 0.5e9) product.run();
                        var threadBean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                        java.util.function.LongSupplier cpuNanos = threads == 1 ? threadBean::getCurrentThreadCpuTime : os::getProcessCpuTime;
                        long t0 = System.nanoTime(), c0 = cpuNanos.getAsLong();
                        int iters = 0;
                        while (System.nanoTime() - t0 < seconds * 1e9) {
                            product.run();
                            iters++;
                        }
                        double wall = (System.nanoTime() - t0) / 1e9, cpu = (cpuNanos.getAsLong() - c0) / 1e9;
                        double flops = 2.0 * rows * cols * n * iters;
                        System.out.printf(Locale.ROOT, "%-6s %-11s %6d %12.1f %14.1f %6.1f%n", ty, shape, n, flops / wall / 1e9,
                                flops / (cpu / threads) / 1e9, os.getSystemLoadAverage());
                    }
                }
            }
        }
    }
}
