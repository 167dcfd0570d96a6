package dev.featherweight.kernels.bench;

import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.infer.Perplexity;
import dev.featherweight.kernels.infer.RequantizedSource;
import dev.featherweight.kernels.core.GgmlType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Perplexity throughput (tokens evaluated per second, llama.cpp protocol, ctx 256) of one F32 model with its
 * weight matrices converted in memory to each type (a pure mix, ggufq's quantizers) — the number
 * llama-perplexity prints as "prompt eval … tokens per second". One warm-up pass, then the median of
 * {@code --runs} timed passes.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp kernels-bench/target/classes:$(cat kernels-bench/target/runtime-classpath.txt) \
 *   dev.featherweight.kernels.bench.PerplexityBench MODEL_DIR TOKENS.u32 [chunks=32] [threads=2] [types=F32,F16,Q8_0,Q4_0,Q4_K] [runs=3]
 * </pre>
 */
public final class PerplexityBench {
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int[] tokens = readTokens(Path.of(args[1]));
        int chunks = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        String[] types = (args.length > 4 ? args[4] : "F32,F16,Q8_0,Q4_0,Q4_K").split(",");
        int runs = args.length > 5 ? Integer.parseInt(args[5]) : 3;
        System.out.printf(Locale.ROOT, "model %s, %d chunks of 256, %d threads, %s%n", model, chunks, threads, cpu());
        try (Parallel pool = new Parallel(threads)) {
            for (String ty : types) {
                GgmlType t = GgmlType.valueOf(ty.trim());
                try (LoadedModel lm = ModelLoader.open(model, null, pool, src -> new RequantizedSource(src, t, threads))) {
                    var c = lm.model().config();
                    Perplexity.Options o = new Perplexity.Options(Perplexity.Mode.LLAMACPP, 256, chunks, 0, c.addBos(), c.bosId());
                    Perplexity.run(lm.model(), tokens, new Perplexity.Options(Perplexity.Mode.LLAMACPP, 256, Math.min(chunks, 4), 0, c.addBos(), c.bosId()));
                    double[] tps = new double[runs];
                    Perplexity.Result r = null;
                    var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
                    long cpu0 = os.getProcessCpuTime();
                    long evaluated = 0;
                    for (int i = 0; i < runs; i++) {
                        r = Perplexity.run(lm.model(), tokens, o);
                        tps[i] = r.tokensPerSecond();
                        evaluated += r.tokensEvaluated();
                    }
                    // On a shared machine wall time depends on the neighbours; tokens per CPU-second × threads
                    // estimates what the same code does with the cores to itself.
                    double cpuSeconds = (os.getProcessCpuTime() - cpu0) / 1e9;
                    double perCpu = evaluated / cpuSeconds * threads;
                    double[] sorted = tps.clone();
                    Arrays.sort(sorted);
                    System.out.printf(Locale.ROOT, "%-5s ppl %.4f  median %.0f tok/s  runs %s  cpu-normalized %.0f tok/s  weights %.1f MB  load %.1f%n", t, r.perplexity(),
                            sorted[runs / 2], Arrays.toString(Arrays.stream(tps).map(Math::rint).toArray()), perCpu, lm.model().weightBytes() / 1e6,
                            os.getSystemLoadAverage());
                }
            }
        }
    }

    static String cpu() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?") + ", " + Runtime.getRuntime().availableProcessors() + " cpus";
        } catch (IOException e) {
            return "?";
        }
    }

    static int[] readTokens(Path p) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        int[] t = new int[bb.remaining() / 4];
        for (int i = 0; i < t.length; i++) t[i] = bb.getInt();
        return t;
    }
}
