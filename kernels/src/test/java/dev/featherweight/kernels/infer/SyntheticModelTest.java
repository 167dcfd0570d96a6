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

    /** qwen2: q/k/v biases are written, loaded through config.json's model_type, and change the output. */
    @Test
    void qwen2ShapeLoadsWithQkvBias(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("qwen2-tiny.json");
        Files.writeString(cfg, """
                {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 512,
                 "max_position_embeddings": 256, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "tie_word_embeddings": true}
                """);
        Path out = tmp.resolve("q");
        assertThat(Fw.run("synth", "--shape", cfg.toString(), "--seed", "2", "--out", out.toString(), "--threads", "2")).isZero();
        try (LlamaModel m = TestModels.loadHf(out)) {
            assertThat(m.config().architecture()).isEqualTo("qwen2");
            assertThat(m.block(0).qBias()).hasSize(64);
            assertThat(m.output()).isSameAs(m.tokenEmbedding()); // tied
            int[] toks = {1, 7, 42, 300};
            float[] before = m.newSession(8).forward(toks, 0, 4, 0, 3);
            BlockWeights b = m.block(0);
            // (a k bias alone would not do: it shifts every score of a query equally, and softmax ignores that)
            float[] bias = b.qBias().clone();
            java.util.Arrays.fill(bias, 0.5f);
            m.setBlock(0, new BlockWeights(b.attnNorm(), b.q(), b.k(), b.v(), b.o(), bias, b.kBias(), b.vBias(), b.ffnNorm(), b.gate(), b.up(), b.down()));
            float[] after = m.newSession(8).forward(toks, 0, 4, 0, 3);
            assertThat(after).isNotEqualTo(before);
        }
    }

    @Test
    void unknownShapeIsRejectedWithTheKnownOnes(@TempDir Path tmp) {
        assertThat(Fw.run("synth", "--shape", "GPT-5", "--out", tmp.resolve("x").toString())).isNotZero();
    }
}
