package dev.featherweight.kernels.formats.quantized;

import java.util.Map;
import dev.featherweight.kernels.pipeline.QuantizeJob;
import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.infer.SyntheticModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import dev.featherweight.kernels.pipeline.CalibrationPipeline;
import dev.featherweight.kernels.quant.Recipe;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * GPTQ's memory is one block, whatever the number of layers, on a wide synthetic Llama (hidden 1024, MLP 2816;
 * 50.6 MB of F32 weights per block) with 8 layers:
 * <ul>
 *   <li>{@code fw quantize --method gptq} runs in a separate JVM with {@value #XMX} of heap, though the model's
 *   blocks alone are 405 MB: blocks must be read from the mapped file one at a time and dropped after use;</li>
 *   <li>in this JVM, the heap still live after a full collection at the end of every block (the state carried from
 *   block to block) must not grow from the first block to the last.</li>
 * </ul>
 * The full-size run (Llama-2-7B shape, 2 layers, -Xmx1536m) is in kernels/README.md.
 */
class GptqMemoryTest {
    static final String XMX = "-Xmx192m";
    static final int LAYERS = 8;
    static final SyntheticModel.Shape WIDE = new SyntheticModel.Shape("wide-test", "llama", 1024, 2816, LAYERS, 8, 8, 512,
            10000, 1e-5, 2048, false, false);

    @Test
    void eightLayersRunInAHeapSmallerThanHalfTheirWeights(@TempDir Path tmp) throws Exception {
        long blockWeightsMb = LAYERS * blockParams(WIDE) * 4 / (1 << 20);
        assertThat(blockWeightsMb).as("the blocks must not fit in the heap twice").isGreaterThan(2 * 192);
        Path out = tmp.resolve("gptq");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(java, XMX, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.featherweight.kernels.cli.Fw",
                "quantize", "--model", model.toString(), "--method", "gptq", "--bits", "4", "--group-size", "128",
                "--calibration", SharedData.shared("eval/train.tinystories.tokens.u32").toString(), "--samples", "8", "--seq-len", "128",
                "--threads", "2", "--out", out.toString(), "--json");
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String stdout = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as("fw quantize (%d layers, %s) exit code; stdout: %s", LAYERS, XMX, stdout).isZero();
        JsonNode j = new ObjectMapper().readTree(stdout);
        assertThat(j.get("modules").size()).isEqualTo(7 * LAYERS);
        assertThat(Files.exists(out.resolve("model.safetensors"))).isTrue();
        System.out.printf("GPTQ, %s, %d layers of %d MB: %.1f s%n", XMX, LAYERS, blockWeightsMb / LAYERS, j.get("seconds").asDouble());
    }

    /** A heap too small for one block is refused up front with the sizes, not an OutOfMemoryError mid-run. */
    @Test
    void aHeapTooSmallForOneBlockIsRefusedWithTheNumbers(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("gptq");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(java, "-Xmx48m", "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "dev.featherweight.kernels.cli.Fw",
                "quantize", "--model", model.toString(), "--method", "gptq", "--bits", "4", "--group-size", "128",
                "--calibration", SharedData.shared("eval/train.tinystories.tokens.u32").toString(), "--samples", "8", "--seq-len", "128",
                "--threads", "2", "--out", out.toString());
        Process p = new ProcessBuilder(cmd).start();
        String stderr = new String(p.getErrorStream().readAllBytes());
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as("stderr: %s", stderr).isEqualTo(1);
        assertThat(stderr).contains(model.toString()).contains("needs about").contains("raise -Xmx").doesNotContain("OutOfMemoryError");
        assertThat(out).doesNotExist();
    }

    /** Three blocks of the same width: state carried from block to block would already grow from the first to the third. */
    static final SyntheticModel.Shape WIDE_3 = WIDE.withLayers(3);

    @Test
    void stateCarriedFromBlockToBlockDoesNotGrow(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("wide-3");
        try (Parallel pool = new Parallel(2)) {
            SyntheticModel.write(WIDE_3, 5, "f32", model, SharedData.demoModel("feather-3m"), pool);
        }
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        List<Long> liveAfterBlock = new ArrayList<>();
        CalibrationPipeline.Listener measure = new CalibrationPipeline.Listener() {
            @Override
            public void blockDone(int block, int blocks, double seconds) {
                System.gc();
                liveAfterBlock.add(memory.getHeapMemoryUsage().getUsed());
            }
        };
        QuantizeJob.Calibration cal = new QuantizeJob.Calibration(SharedData.shared("eval/train.tinystories.tokens.u32"), 8, 128, 42);
        try (Parallel pool = new Parallel(2)) {
            QuantizeJob.run(model, Recipe.of("gptq", Map.of("bits", 4, "groupSize", 128)), cal, tmp.resolve("gptq"), null, measure, pool);
        }
        System.out.println("GPTQ live heap after each block (MB): " + liveAfterBlock.stream().map(b -> b >> 20).toList());
        assertThat(liveAfterBlock).hasSize(WIDE_3.layers());
        long first = liveAfterBlock.getFirst(), max = liveAfterBlock.stream().mapToLong(Long::longValue).max().orElseThrow();
        assertThat(max - first).as("growth of the live heap from block 0 to block %d", WIDE_3.layers() - 1).isLessThan(8L << 20);
    }

    static Path wideModel(Path tmp) throws Exception {
        Path model = tmp.resolve("wide-" + LAYERS);
        try (Parallel pool = new Parallel(2)) {
            SyntheticModel.write(WIDE, 5, "f32", model, SharedData.demoModel("feather-3m"), pool);
        }
        return model;
    }

    /** One 405 MB model for the two tests that need a model larger than twice their heap. */
    @TempDir
    static Path shared;
    static Path model;

    @org.junit.jupiter.api.BeforeAll
    static void writeTheWideModel() throws Exception {
        model = wideModel(shared);
    }

    static long blockParams(SyntheticModel.Shape s) {
        return 4L * s.hidden() * s.hidden() + 3L * s.hidden() * s.ffn();
    }
}
