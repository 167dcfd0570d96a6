package dev.featherweight.kernels.bench;

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
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * GGUF quantization throughput: one 2048 × 1024 F32 matrix (8 MiB, N(0, 0.05²) weights with 0.2 %
 * outliers ×8 like the synth fixtures) quantized to each type, from an off-heap segment (as a mapped
 * file would be) into an off-heap segment, with 1 and 2 threads. MB/s of F32 input = ops/s × 8.388608.
 * Run: {@code java --add-modules jdk.incubator.vector -cp kernels-bench/target/classes:$(cat kernels-bench/target/runtime-classpath.txt)
 * org.openjdk.jmh.Main GgufQuantizeBench}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class GgufQuantizeBench {
    static final int ROWS = 2048;
    static final int COLS = 1024;

    @Param({"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL"})
    public String type;

    @Param({"1", "2"})
    public int threads;

    private Arena arena;
    private MemorySegment src;
    private MemorySegment dst;
    private GgufBlockCodec codec;

    @Setup(Level.Trial)
    public void setup() {
        codec = GgufBlockCodecs.of(GgmlType.valueOf(type));
        arena = Arena.ofShared();
        src = arena.allocate(4L * ROWS * COLS);
        Random r = new Random(20250220);
        ValueLayout.OfFloat f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < (long) ROWS * COLS; i++) {
            float v = (float) (r.nextGaussian() * 0.05);
            if (r.nextInt(500) == 0) v *= 8;
            src.setAtIndex(f32, i, v);
        }
        dst = arena.allocate(codec.rowBytes(COLS) * ROWS);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public MemorySegment quantize() {
        GgufBlockCodecs.quantizeRows(codec, src, 0, ROWS, COLS, dst, 0, null, threads);
        return dst;
    }
}
