package dev.featherweight.kernels.bench;

import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.quant.Awq;
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

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * AWQ's weight-side work on one 4096 × 4096 layer (a Llama-2-7B attention projection), 4-bit, group 128:
 * {@code quantizeScaled} is what each of the 20 scale-search grid points costs per layer besides the block forward
 * (scale the columns, pseudo-quantize with zero point, unscale); {@code pseudoQuantize} is the final quantization;
 * {@code searchClip} is the clipping search over the 512 calibration tokens AutoAWQ samples (10 clip ratios,
 * each group's output compared on every token; rows over {@code threads} threads). MB/s of F32 weights = 64 MiB / time.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -cp kernels-bench/target/classes:$(cat kernels-bench/target/runtime-classpath.txt)
 * org.openjdk.jmh.Main AwqBench} (see kernels/README.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class AwqBench {
    static final int TOKENS = 512;

    @Param({"4096"})
    public int dim;

    /** searchClip's rows are split over this many threads; the other two benchmarks are single-threaded. */
    @Param({"2"})
    public int threads;

    private Parallel pool;
    private float[] weights, w, x, scales;

    @Setup(Level.Trial)
    public void setup() {
        Random r = new Random(11);
        weights = BenchData.gaussian(dim * dim, 0.02, r);
        x = BenchData.calibrationTokens(TOKENS, dim, r);
        float[] xMean = Awq.meanAbs(x, TOKENS, dim);
        float[] wMean = Awq.weightMean(new float[][]{weights}, new int[]{dim}, dim, 128);
        scales = Awq.scales(xMean, wMean, 0.5f, false);
        pool = new Parallel(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    @Setup(Level.Invocation)
    public void fresh() {
        w = weights.clone();
    }

    @Benchmark
    public float[] quantizeScaled() {
        return Awq.quantizeScaled(weights, dim, dim, scales, 4, 128);
    }

    @Benchmark
    public Object pseudoQuantize() {
        return Awq.pseudoQuantize(weights, dim, dim, 4, 128);
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @Warmup(iterations = 1)
    @Measurement(iterations = 3)
    public double searchClip() {
        return Awq.searchClip(w, dim, dim, x, TOKENS, 4, 128, pool);
    }
}
