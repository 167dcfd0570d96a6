package dev.featherweight.kernels.bench;

import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.quant.Gptq;
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
 * GPTQ on the linear-layer shapes of a Llama-2-7B block (rows × cols = out × in): 4096x4096 (q, k, v, o),
 * 11008x4096 (gate, up), 4096x11008 (down). {@code quantize} is one {@link Gptq#quantize} call (damping,
 * Cholesky of H⁻¹, the blocked column loop; 4-bit, group 128) on a Hessian made from {@value #TOKENS}
 * correlated calibration tokens; {@code hessian} accumulates H over those tokens. Single-shot: one call is seconds.
 * GFLOP/s = {@link Gptq#flops} / time and {@link Gptq#hessianFlops} / time. Seconds per 7B block ≈
 * 4·t(4096x4096) + 2·t(11008x4096) + t(4096x11008) + the three Hessians (q/k/v share one, gate/up share one).
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -cp kernels-bench/target/classes:$(cat kernels-bench/target/runtime-classpath.txt)
 * org.openjdk.jmh.Main GptqBench} (see kernels/README.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx3g"})
public class GptqBench {
    static final int TOKENS = 2048;

    @Param({"4096x4096", "11008x4096", "4096x11008"})
    public String shape;

    @Param({"2"})
    public int threads;

    private int rows, cols;
    private Parallel pool;
    private float[] weights, tokens, hessian;
    private float[] w, h;

    @Setup(Level.Trial)
    public void setup() {
        String[] p = shape.split("x");
        rows = Integer.parseInt(p[0]);
        cols = Integer.parseInt(p[1]);
        pool = new Parallel(threads);
        Random r = new Random(7);
        weights = BenchData.gaussian(rows * cols, 0.02, r);
        tokens = BenchData.calibrationTokens(TOKENS, cols, r);
        Gptq.Hessian acc = new Gptq.Hessian(cols);
        acc.add(tokens, TOKENS, pool);
        hessian = acc.finish();
    }

    @Setup(Level.Invocation)
    public void fresh() {
        w = weights.clone();
        h = hessian.clone();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    @Benchmark
    public Object quantize() {
        return Gptq.quantize(w, rows, cols, h, Gptq.Options.of(4, 128), pool);
    }

    @Benchmark
    public Object hessian() {
        Gptq.Hessian acc = new Gptq.Hessian(cols);
        acc.add(tokens, TOKENS, pool);
        return acc.finish();
    }
}
