package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.cli.Fw;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class SyntheticModelTest {
    @Test
    void synthWritesALoadableSeededModel(@TempDir Path tmp) throws Exception {
        Path cfg = SharedData.demoModel("feather-3m").resolve("config.json");
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        assertThat(Fw.run("synth", "--shape", cfg.toString(), "--layers", "2", "--seed", "5", "--dtype", "f32", "--out", a.toString(), "--threads", "2")).isZero();
        assertThat(Fw.run("synth", "--shape", cfg.toString(), "--layers", "2", "--seed", "5", "--dtype", "f32", "--out", b.toString(), "--threads", "1")).isZero();
        // Same seed, different thread counts: identical bytes.
        assertThat(Files.mismatch(a.resolve("model.safetensors"), b.resolve("model.safetensors"))).isEqualTo(-1L);
        assertThat(a.resolve("tokenizer.json")).exists();
        try (LlamaModel m = TestModels.loadHf(a)) {
            assertThat(m.config().layers()).isEqualTo(2);
            float[] w = new float[m.config().dim()];
            m.block(0).q().decodeRow(3, w, 0);
            double ss = 0;
            for (float v : w) ss += v * v;
            assertThat(Math.sqrt(ss / w.length)).isBetween(0.015, 0.025); // std 0.02
            float[] logits = m.newSession(8).forward(new int[]{1, 5, 9, 300}, 0, 4, 0, 3);
            assertThat(logits).hasSize(m.config().vocab());
            for (float v : logits) assertThat(Float.isFinite(v)).isTrue();
        }
    }

    @Test
    void unknownShapeIsRejectedWithTheKnownOnes(@TempDir Path tmp) {
        assertThat(Fw.run("synth", "--shape", "GPT-5", "--out", tmp.resolve("x").toString())).isNotZero();
    }
}
