package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.infer.KlDivergence;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.infer.Numerics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole KL-divergence report, digit for digit, against a llama.cpp build (c392e50) on an AVX2 CPU: with the
 * 8-lane llama.cpp numerics the base file is byte-identical to its {@code --kl-divergence-base} file and every
 * statistic line llama-perplexity prints for Q4_K_M, Q2_K and Q8_0 is printed the same by {@code fw kld}. The
 * expected lines are llama-perplexity's own output (src/test/resources/llamacpp/kld-avx2-16chunks, with the
 * commands); 16 chunks of dev.tinystories keep the class at four short passes.
 */
class KldLlamaCppAvx2Test {
    static final int CHUNKS = 16;
    static Path dir;
    static Path baseFile;
    static Parallel pool;

    @BeforeAll
    static void writeBase() throws Exception {
        dir = Files.createTempDirectory("kld-avx2");
        baseFile = dir.resolve("base.kld");
        pool = new Parallel(2);
        try (LoadedModel lm = ModelLoader.open(SharedData.shared("golden/gguf/feather-3m-F32.gguf"), SharedData.demoModel("feather-3m"), pool)) {
            int[] tokens = lm.encode(Files.readString(SharedData.shared("eval/dev.tinystories.txt")));
            KlDivergence.writeBase(lm.model(), tokens, 256, CHUNKS, Numerics.LLAMACPP_KV_F16_AVX2, baseFile, null);
        }
    }

    @AfterAll
    static void cleanUp() throws IOException {
        pool.close();
        Files.deleteIfExists(baseFile);
        Files.delete(dir);
    }

    @Test
    void baseFileIsLlamaCppsByteForByte() throws Exception {
        String expected = fixture("base.sha256").lines().filter(l -> !l.startsWith("#")).findFirst().orElseThrow().split("\\s+")[0];
        String ours = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(baseFile)));
        assertThat(ours).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Q4_K_M", "Q2_K", "Q8_0"})
    void everyPrintedStatisticEqualsLlamaPerplexitys(String type) throws Exception {
        KlDivergence.Result r;
        try (LoadedModel lm = ModelLoader.open(SharedData.shared("golden/gguf/feather-3m-" + type + ".gguf"), SharedData.demoModel("feather-3m"), pool)) {
            r = KlDivergence.compare(lm.model(), baseFile, 0, Numerics.LLAMACPP_KV_F16_AVX2, null);
        }
        var out = new ByteArrayOutputStream();
        KldCommand.print(new PrintStream(out, true, StandardCharsets.UTF_8), r);
        List<String> ours = out.toString(StandardCharsets.UTF_8).lines().map(String::strip).toList();
        List<String> printed = fixture(type + ".txt").lines().filter(l -> !l.startsWith("#") && !l.isBlank()).map(String::strip).toList();
        assertThat(printed).hasSizeGreaterThan(30);
        assertThat(ours).containsAll(printed);
    }

    static String fixture(String name) throws IOException {
        try (InputStream in = KldLlamaCppAvx2Test.class.getResourceAsStream("/llamacpp/kld-avx2-16chunks/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
