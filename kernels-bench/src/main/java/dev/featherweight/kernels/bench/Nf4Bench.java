package dev.featherweight.kernels.bench;

import dev.featherweight.kernels.quant.Nf4;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * bitsandbytes 4-bit on one 4096 × 4096 F32 layer (64 MiB): {@code quantize} (absmax per 64, nearest code of the
 * NF4 or FP4 book, two codes per byte), {@code doubleQuantize} (the 262,144 absmax values to 8 bits in blocks of
 * 256) and {@code dequantize} (what a reload computes). MB/s of F32 weights = 64 MiB / time.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -cp kernels-bench/target/classes:$(cat kernels-bench/target/runtime-classpath.txt)
 * org.openjdk.jmh.Main Nf4Bench} (see kernels/README.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class Nf4Bench {
    static final int DIM = 4096;

    @Param({"NF4", "FP4"})
    public String type;

    private Nf4.Type t;
    private float[] weights;
    private Nf4.Weight quantized;

    @Setup(Level.Trial)
    public void setup() {
        t = Nf4.Type.valueOf(type);
        Random r = new Random(13);
        weights = BenchData.gaussian(DIM * DIM, 0.02, r);
        quantized = Nf4.quantize(weights, new long[]{DIM, DIM}, t);
    }

    @Benchmark
    public Object quantize() {
        return Nf4.quantize(weights, new long[]{DIM, DIM}, t);
    }

    @Benchmark
    public Object doubleQuantize() {
        return Nf4.doubleQuantize(quantized.absmax());
    }

    @Benchmark
    public float[] dequantize() {
        return quantized.dequantize();
    }
}
