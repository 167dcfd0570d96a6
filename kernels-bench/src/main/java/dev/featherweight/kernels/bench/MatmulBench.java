package dev.featherweight.kernels.bench;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.infer.WeightMatrices;
import dev.featherweight.kernels.core.WeightMatrix;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodec;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodecs;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Matmul throughput per weight type: W (rows × cols, random N(0, 0.02²), quantized with ggufq's codecs)
 * times a batch of nTokens activations, on {@code threads} threads. GFLOP/s = 2·rows·cols·nTokens / time.
 * nTokens = 1 is generation (matvec, memory bound), 256 prompt processing (compute bound).
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -cp kernels-bench/target/classes:$(cat kernels-bench/target/runtime-classpath.txt)
 * org.openjdk.jmh.Main MatmulBench -p type=Q4_0 -p shape=4096x4096} (see kernels/README.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class MatmulBench {
    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL"})
    public String type;

    /** rows x cols: 4096x4096 (attention projections of a 7B), 14336x4096 / 4096x14336 (Llama-3-8B FFN up / down). */
    @Param({"4096x4096", "14336x4096"})
    public String shape;

    @Param({"1", "256"})
    public int nTokens;

    @Param({"2"})
    public int threads;

    private Arena arena;
    private Parallel pool;
    private WeightMatrix w;
    private float[] x, out;

    @Setup(Level.Trial)
    public void setup() {
        String[] rc = shape.split("x");
        int rows = Integer.parseInt(rc[0]), cols = Integer.parseInt(rc[1]);
        GgmlType t = GgmlType.valueOf(type);
        arena = Arena.ofShared();
        w = randomMatrix(t, rows, cols, 7, arena);
        pool = new Parallel(threads);
        x = new float[nTokens * cols];
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        out = new float[nTokens * rows];
    }

    /** A rows × cols matrix of type t with seeded N(0, 0.02²) weights, quantized into arena memory. */
    public static WeightMatrix randomMatrix(GgmlType t, int rows, int cols, long seed, Arena arena) {
        GgufBlockCodec codec = GgufBlockCodecs.of(t);
        long rowBytes = t.rowBytes(cols);
        MemorySegment seg = arena.allocate(rowBytes * rows, 64);
        float[] row = new float[cols];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < cols; c++) row[c] = (float) ((r.nextDouble() + r.nextDouble() + r.nextDouble() - 1.5) * 0.04);
            codec.quantizeRow(row, 0, cols, seg, i * rowBytes, null);
        }
        return WeightMatrices.of(new Tensor("bench", t, new long[]{rows, cols}, seg));
    }

    @Benchmark
    public float[] matmul() {
        w.matmul(x, nTokens, out, pool);
        return out;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }
}
