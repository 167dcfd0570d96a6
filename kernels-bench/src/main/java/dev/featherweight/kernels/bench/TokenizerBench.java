package dev.featherweight.kernels.bench;

import dev.featherweight.kernels.formats.tokenizer.Tokenizer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Encoding speed of the tok512 tokenizer on the 1.5 MB calibration text (train.tinystories + train.wikitext
 * from ../shared/eval), single thread, a fresh tokenizer per invocation so the word cache starts empty
 * (the first encode of a text is what perplexity runs pay). MB/s = 1.51 / (seconds per op).
 * {@code source}: tokenizer.json (merges by rank) or the GGUF metadata (llama.cpp's merge by score).
 *
 * <p>Run: {@code java -cp kernels-bench/target/classes:$(cat kernels-bench/target/runtime-classpath.txt) org.openjdk.jmh.Main TokenizerBench}
 * from the repository root (the shared data are looked up at ../shared, or FW_SHARED).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class TokenizerBench {
    @Param({"tokenizer.json", "gguf"})
    public String source;

    private String text;
    private Path shared;

    @Setup
    public void setup() throws IOException {
        String env = System.getenv("FW_SHARED");
        shared = env != null && !env.isBlank() ? Path.of(env) : Path.of("../shared").toAbsolutePath().normalize();
        text = Files.readString(shared.resolve("eval/train.tinystories.txt")) + Files.readString(shared.resolve("eval/train.wikitext.txt"));
    }

    @Benchmark
    public int[] encodeCalibrationText() {
        Tokenizer t = source.equals("gguf") ? Tokenizer.fromGguf(shared.resolve("golden/gguf/feather-3m-F32.gguf"))
                : Tokenizer.fromHfFolder(Path.of("models/feather-3m"));
        return t.encode(text);
    }
}
