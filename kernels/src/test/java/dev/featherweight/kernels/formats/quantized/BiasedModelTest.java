package dev.featherweight.kernels.formats.quantized;

import java.util.Map;
import dev.featherweight.kernels.pipeline.modifier.Modifiers;
import dev.featherweight.kernels.pipeline.QuantizeJob;
import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.safetensors.SafetensorsFile;
import dev.featherweight.kernels.infer.LlamaModel;
import dev.featherweight.kernels.infer.LlamaSession;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.infer.SyntheticModel;
import dev.featherweight.kernels.quant.Recipe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A qwen2-style model with q/k/v biases and as many KV heads as query heads (Qwen1.5's shape, where AWQ also
 * scales v_proj → o_proj). The folders keep every bias, and the quantized models compute what the float model
 * computes up to quantization noise: AWQ's folded scales must also divide v_proj's bias (AutoAWQ
 * {@code scale_fc_fc}: {@code fc1.bias.div_(scales)}), or its output drifts by the bias times (1 − 1/s).
 */
class BiasedModelTest {
    static final Parallel POOL = new Parallel(2);
    static final SyntheticModel.Shape MHA_BIAS = new SyntheticModel.Shape("mha-bias", "qwen2", 256, 768, 2, 4, 4, 512,
            1e6, 1e-6, 2048, false, true);
    @TempDir
    static Path tmp;
    static Path model;
    static int[] tokens;
    static float[] reference;

    @BeforeAll
    static void writeModel() throws Exception {
        model = tmp.resolve("mha-bias");
        SyntheticModel.write(MHA_BIAS, 21, "f32", model, SharedData.demoModel("feather-3m"), POOL);
        randomizeBiases(model.resolve("model.safetensors"), 0.5f, 22);
        tokens = new int[96];
        Random r = new Random(23);
        for (int i = 0; i < tokens.length; i++) tokens[i] = i == 0 ? 1 : 3 + r.nextInt(500);
        try (LoadedModel lm = ModelLoader.open(model, null, POOL)) {
            assertThat(lm.model().block(0).vBias()).isNotNull();
            reference = logits(lm.model());
        }
    }

    @AfterAll
    static void close() {
        POOL.close();
    }

    /** Overwrites every *.bias tensor (F32) of a safetensors file in place with N(0, std²) values. */
    static void randomizeBiases(Path file, float std, long seed) throws Exception {
        Random r = new Random(seed);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long n = len.flip().getLong();
            ByteBuffer head = ByteBuffer.allocate((int) n);
            ch.read(head, 8);
            JsonNode h = JsonMapper.builder().build().readTree(new String(head.array(), StandardCharsets.UTF_8));
            for (var e : h.properties()) {
                if (!e.getKey().endsWith(".bias")) continue;
                long a = e.getValue().get("data_offsets").get(0).asLong(), b = e.getValue().get("data_offsets").get(1).asLong();
                ByteBuffer v = ByteBuffer.allocate((int) (b - a)).order(ByteOrder.LITTLE_ENDIAN);
                while (v.hasRemaining()) v.putFloat((float) (r.nextGaussian() * std));
                ch.write(v.flip(), 8 + n + a);
            }
        }
    }

    static float[] logits(LlamaModel m) {
        LlamaSession s = m.newSession(tokens.length);
        float[] h = s.embed(tokens, 0, tokens.length);
        for (int l = 0; l < m.config().layers(); l++) s.forwardBlock(l, h, tokens.length, 0);
        return s.logits(h, tokens.length, 0);
    }

    static double relativeError(Path folder) {
        try (LoadedModel lm = ModelLoader.open(folder, null, POOL)) {
            float[] q = logits(lm.model());
            double e = 0, n = 0;
            for (int i = 0; i < q.length; i++) {
                e += (double) (q[i] - reference[i]) * (q[i] - reference[i]);
                n += (double) reference[i] * reference[i];
            }
            return Math.sqrt(e / n);
        }
    }

    static Path quantize(Recipe r, String name) {
        QuantizeJob.Calibration cal = Modifiers.of(r).calibrated()
                ? new QuantizeJob.Calibration(SharedData.shared("eval/train.tinystories.tokens.u32"), 8, 128, 24) : null;
        Path out = tmp.resolve(name);
        QuantizeJob.run(model, r, cal, out, null, null, POOL);
        return out;
    }

    @Test
    void everyFolderKeepsTheBiasesAndComputesTheFloatModelUpToQuantizationNoise() throws Exception {
        double rtn = relativeError(quantize(Recipe.of("rtn", Map.of("bits", 8, "groupSize", 128)), "rtn8"));
        double gptq = relativeError(quantize(Recipe.of("gptq", Map.of("bits", 8, "groupSize", 128)), "gptq8"));
        Path awqFolder = quantize(Recipe.of("awq", Map.of("bits", 4, "groupSize", 128)), "awq4");
        double awq = relativeError(awqFolder);
        double rtn4 = relativeError(quantize(Recipe.of("rtn", Map.of("bits", 4, "groupSize", 128)), "rtn4"));
        double int8 = relativeError(quantize(Recipe.of("llm-int8", Map.of()), "int8"));
        System.out.printf("relative logits error vs F32: RTN8 %.2e, GPTQ8 %.2e, LLM.int8 %.2e, RTN4 %.2e, AWQ4 %.2e%n", rtn, gptq, int8, rtn4, awq);
        assertThat(rtn).isLessThan(0.01);
        assertThat(gptq).isLessThan(0.01);
        assertThat(int8).isLessThan(0.01);
        assertThat(awq).as("AWQ 4-bit vs RTN 4-bit").isLessThan(rtn4);
        try (SafetensorsFile f = SafetensorsFile.open(awqFolder.resolve("model.safetensors"))) {
            for (String m : new String[]{"q_proj", "k_proj", "v_proj"}) {
                Tensor t = f.tensor("model.layers.1.self_attn." + m + ".bias");
                assertThat(t.shape()).containsExactly(256L);
                assertThat(t.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 0)).isNotZero();
            }
        }
        assertThat(Files.exists(awqFolder.resolve("config.json"))).isTrue();
    }
}
