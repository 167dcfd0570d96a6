package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.SharedData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

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
}
