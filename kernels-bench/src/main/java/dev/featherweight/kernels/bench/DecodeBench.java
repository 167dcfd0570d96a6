package dev.featherweight.kernels.bench;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.Parallel;
import jdk.incubator.vector.FloatVector;
import dev.featherweight.kernels.infer.LlamaSession;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.infer.Numerics;
import dev.featherweight.kernels.infer.RequantizedSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Single-token decode speed, as llama-bench's {@code tg32}: 32 tokens generated one at a time from an empty
 * context (each a full forward pass of one token through every layer and the output head), tokens per second.
 * The weights are one F32 model converted in memory to each type (a pure mix). One warm-up pass, then the median of
 * {@code runs} passes. Also prints CPU-normalized tokens/s = tokens / (process CPU seconds / threads), what the code does
 * per core-second it got on a shared machine. With {@code llamacpp} numerics the Q8_0/Q4_0 matrices run their integer
 * dots on Q8_0 activations ({@code BlockMatrix#matmul(Q8Activations, …)}).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp kernels-bench/target/classes:$(cat kernels-bench/target/runtime-classpath.txt) \
 *   dev.featherweight.kernels.bench.DecodeBench MODEL_DIR [threads=2] [types=F32,Q8_0,Q4_0,Q4_K] [runs=3] [numerics=fp32|llamacpp]
 * </pre>
 */
public final class DecodeBench {
    private static final int TOKENS = 32;

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        String[] types = (args.length > 2 ? args[2] : "F32,Q8_0,Q4_0,Q4_K").split(",");
        int runs = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        Numerics numerics = Numerics.parse(args.length > 4 ? args[4] : "fp32");
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        System.out.printf(Locale.ROOT, "model %s, tg%d, %d threads, %s, vectors %s, numerics %s%n", model, TOKENS, threads, PerplexityBench.cpu(),
                FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit", numerics.label());
        try (Parallel pool = new Parallel(threads)) {
            for (String ty : types) {
                GgmlType t = GgmlType.valueOf(ty.trim());
                try (LoadedModel lm = ModelLoader.open(model, null, pool, src -> new RequantizedSource(src, t, threads))) {
                    generate(lm, numerics);
                    double[] tps = new double[runs], cpuTps = new double[runs];
                    for (int i = 0; i < runs; i++) {
                        long c0 = os.getProcessCpuTime();
                        tps[i] = generate(lm, numerics);
                        double cpuSeconds = (os.getProcessCpuTime() - c0) / 1e9;
                        cpuTps[i] = TOKENS / (cpuSeconds / threads);
                    }
                    double[] sorted = tps.clone(), cpuSorted = cpuTps.clone();
                    Arrays.sort(sorted);
                    Arrays.sort(cpuSorted);
                    System.out.printf(Locale.ROOT, "%-5s median %.1f tok/s  runs %s  cpu-normalized %.1f tok/s  load %.1f%n", t, sorted[runs / 2],
                            Arrays.toString(Arrays.stream(tps).map(v -> Math.rint(v * 10) / 10).toArray()), cpuSorted[runs / 2], os.getSystemLoadAverage());
                }
            }
        }
    }

    /** Tokens per second of 32 one-token forward passes (logits of each, as generation needs them). */
    static double generate(LoadedModel lm, Numerics numerics) {
        LlamaSession s = lm.model().newSession(TOKENS);
        s.setNumerics(numerics);
        int vocab = lm.model().config().vocab();
        int[] token = {1};
        float sink = 0;
        long t0 = System.nanoTime();
        for (int pos = 0; pos < TOKENS; pos++) {
            sink += s.forward(token, 0, 1, pos, 0)[0];
            token[0] = (pos * 7919 + 3) % vocab; // a fixed token sequence, so every type decodes the same one
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (Float.isNaN(sink)) throw new IllegalStateException("NaN logits");
        return TOKENS / seconds;
    }
}
