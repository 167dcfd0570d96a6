package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.Parallel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ForwardLogitsTest {
    static int[] readTokens(Path p, int max) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        int n = Math.min(max, bb.remaining() / 4);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = bb.getInt();
        return t;
    }

    static float[] readFloats(Path p) throws IOException {
        ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[bb.remaining() / 4];
        bb.asFloatBuffer().get(f);
        return f;
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K", "feather-3m"})
    void first64LogitsMatchReference(String name) throws IOException {
        Path eval = SharedData.shared("eval");
        int[] tokens = readTokens(eval.resolve("train.tinystories.tokens.u32"), 64);
        float[] ref = readFloats(eval.resolve(name + ".ref_logits_first64.f32"));
        try (LlamaModel m = TestModels.loadHf(SharedData.shared("models").resolve(name))) {
            float[] logits = m.newSession(64).forward(tokens, 0, 64, 0, 0);
            assertThat(logits).hasSize(ref.length);
            double maxDiff = 0;
            for (int i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(logits[i] - ref[i]));
            System.out.println(name + " max |logit - ref| = " + maxDiff);
            assertThat(maxDiff).isLessThan(1e-4);
        }
    }

    /**
     * llama.cpp-order numerics at 8 lanes against a llama.cpp build for AVX2 (src/test/resources/llamacpp: the sha256 of
     * each chunk's stored rows of its --kl-divergence-base file, with the command): the first chunks of feather-3m F32 on
     * dev.tinystories give the same uint16 codes, i.e. every logit bit-identical (one differing bit of a logit flips a
     * code in a few percent of rows). Runs at every vector width of the CI executions.
     */
    @Test
    void avx2BuildsBaseLogitsOfTheFirstChunksAreReproducedBitForBit() throws Exception {
        List<String> expected;
        try (var in = ForwardLogitsTest.class.getResourceAsStream("/llamacpp/feather-3m-F32.dev.tinystories.avx2.chunks.sha256")) {
            expected = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).lines().filter(l -> !l.startsWith("#")).toList();
        }
        int chunks = 2, ctx = 256, rows = dev.featherweight.kernels.formats.BaseLogitsFile.rowsPerChunk(ctx);
        Path dir = Files.createTempDirectory("avx2-chunks"), file = dir.resolve("base.kld");
        try (Parallel pool = new Parallel(2);
             LoadedModel lm = ModelLoader.open(SharedData.shared("golden/gguf/feather-3m-F32.gguf"), SharedData.demoModel("feather-3m"), pool)) {
            int[] tokens = lm.encode(Files.readString(SharedData.shared("eval/dev.tinystories.txt")));
            KlDivergence.writeBase(lm.model(), tokens, ctx, chunks, Numerics.LLAMACPP_KV_F16_AVX2, file, null);
            byte[] bytes = Files.readAllBytes(file);
            int block = 2 * dev.featherweight.kernels.formats.BaseLogitsFile.rowValues(512) * rows, first = 20 + 4 * ctx * chunks;
            for (int c = 0; c < chunks; c++) {
                byte[] rowsOfChunk = java.util.Arrays.copyOfRange(bytes, first + c * block, first + (c + 1) * block);
                assertThat(c + " " + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(rowsOfChunk))).isEqualTo(expected.get(c));
            }
        } finally {
            Files.deleteIfExists(file);
            Files.delete(dir);
        }
    }
}
