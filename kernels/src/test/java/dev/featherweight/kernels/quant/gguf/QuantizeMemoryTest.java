package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.infer.SyntheticModel;
import dev.featherweight.kernels.core.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A full-size TinyLlama-1.1B F32 model (4.4 GB, zero weights in a sparse file) quantized to Q4_K_M by
 * {@code fw quantize} in a separate JVM with -Xmx512m: input mapped, output filled in place, so the heap
 * never holds a tensor.
 */
class QuantizeMemoryTest {
    @Test
    void fourGigabyteF32ModelQuantizesIn512MegabytesOfHeap(@TempDir Path tmp) throws Exception {
        SyntheticModel.Shape shape = SyntheticModel.shape("TinyLlama-1.1B");
        Path model = tmp.resolve("tinyllama-zeros");
        SyntheticModel.writeZeros(shape, "f32", model, SharedData.demoModel("feather-3m"));
        assertThat(Files.size(model.resolve("model.safetensors"))).isGreaterThan(4_000_000_000L);
        Path out = tmp.resolve("q4km.gguf");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx512m", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "dev.featherweight.kernels.cli.Fw",
                "quantize", "--model", model.toString(), "--format", "gguf", "--type", "Q4_K_M", "--out", out.toString(), "--threads", "2"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(15, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as("fw quantize exit code, output: %s", log).isZero();
        System.out.println("TinyLlama-1.1B zeros → Q4_K_M with -Xmx512m: " + log.strip());
        try (GgufFile g = GgufFile.open(out)) {
            assertThat(g.tensorInfo("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.Q4_K);
            assertThat(g.tensorInfo("output.weight").type()).isEqualTo(GgmlType.Q6_K);
            assertThat(g.tensorInfos()).hasSize(3 + 9 * shape.layers());
        }
    }
}
