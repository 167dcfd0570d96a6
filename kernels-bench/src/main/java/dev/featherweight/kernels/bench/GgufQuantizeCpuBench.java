package dev.featherweight.kernels.bench;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodec;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodecs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

/**
 * Companion of {@link GgufQuantizeBench} for a shared, busy machine: the same 2048 × 1024 F32 matrix,
 * quantized on the calling thread, timed by that thread's CPU time as well as by the wall clock. On a
 * quiet machine the two agree; when other jobs steal the CPU only the CPU-time figure still says how
 * fast the code is (it is what a single-threaded llama-quantize run on a quiet machine is compared to).
 * Prints a Markdown table: MB of F32 input per CPU second and per wall second, median of the runs.
 * Run: {@code java --add-modules jdk.incubator.vector -cp kernels-bench/target/classes:$(cat kernels-bench/target/runtime-classpath.txt)
 * dev.featherweight.kernels.bench.GgufQuantizeCpuBench [runs] [types…]}
 */
public final class GgufQuantizeCpuBench {
    private GgufQuantizeCpuBench() {
    }

    public static void main(String[] args) {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        String[] types = args.length > 1 ? Arrays.copyOfRange(args, 1, args.length)
                : new String[]{"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL"};
        int rows = GgufQuantizeBench.ROWS, cols = GgufQuantizeBench.COLS;
        double mb = 4.0 * rows * cols / 1e6;
        var threadBean = ManagementFactory.getThreadMXBean();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment src = arena.allocate(4L * rows * cols);
            Random r = new Random(20250220);
            ValueLayout.OfFloat f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < (long) rows * cols; i++) {
                float v = (float) (r.nextGaussian() * 0.05);
                if (r.nextInt(500) == 0) v *= 8;
                src.setAtIndex(f32, i, v);
            }
            System.out.println("| type | MB/s per CPU second (1 thread) | MB/s wall (1 thread) |");
            System.out.println("|---|---:|---:|");
            for (String t : types) {
                GgufBlockCodec codec = GgufBlockCodecs.of(GgmlType.valueOf(t));
                MemorySegment dst = arena.allocate(codec.rowBytes(cols) * rows);
                long warmEnd = System.nanoTime() + 2_000_000_000L;
                while (System.nanoTime() < warmEnd) GgufBlockCodecs.quantizeRows(codec, src, 0, rows, cols, dst, 0, null, 1);
                double[] cpu = new double[runs], wall = new double[runs];
                for (int i = 0; i < runs; i++) {
                    long c0 = threadBean.getCurrentThreadCpuTime(), w0 = System.nanoTime();
                    GgufBlockCodecs.quantizeRows(codec, src, 0, rows, cols, dst, 0, null, 1);
                    cpu[i] = mb / ((threadBean.getCurrentThreadCpuTime() - c0) / 1e9);
                    wall[i] = mb / ((System.nanoTime() - w0) / 1e9);
                }
                Arrays.sort(cpu);
                Arrays.sort(wall);
                System.out.printf("| %s | %.0f | %.0f |%n", t, cpu[runs / 2], wall[runs / 2]);
            }
        }
    }
}
