package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A full-size TinyLlama-1.1B F32 model (4.4 GB, all-zero weights in a sparse file, so creating it is instant and
 * takes no disk) evaluated by {@code fw perplexity} in a separate JVM with -Xmx512m: the weights must be mapped,
 * not on the heap. All-zero weights give equal logits, so the perplexity must be exactly the vocabulary size.
 */
class BigModelMemoryTest {
    @Test
    void fourGigabyteF32ModelRunsIn512MegabytesOfHeap(@TempDir Path tmp) throws Exception {
        SyntheticModel.Shape shape = SyntheticModel.shape("TinyLlama-1.1B");
        Path model = tmp.resolve("tinyllama-zeros");
        SyntheticModel.writeZeros(shape, "f32", model, SharedData.demoModel("feather-3m"));
        assertThat(Files.size(model.resolve("model.safetensors"))).isGreaterThan(4_000_000_000L);

        Path tokens = tmp.resolve("t.u32");
        ByteBuffer bb = ByteBuffer.allocate(64 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 64; i++) bb.putInt(i == 0 ? 1 : 3 + (i * 37) % 500);
        Files.write(tokens, bb.array());

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx512m", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "dev.featherweight.kernels.cli.Fw",
                "perplexity", "--model", model.toString(), "--tokens", tokens.toString(), "--ctx", "32", "--threads", "2", "--json"));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as("fw perplexity exit code, stdout: %s", out).isZero();
        JsonNode j = new ObjectMapper().readTree(out);
        System.out.println("TinyLlama-1.1B zeros, -Xmx512m: " + out.strip());
        assertThat(j.get("perplexity").asDouble()).isCloseTo(shape.vocab(), org.assertj.core.data.Percentage.withPercentage(0.01));
        assertThat(j.get("tokens").asLong()).isEqualTo(2 * (32 - 1 - 16));
    }
}
