package dev.featherweight.contracts;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ContractsJsonTest {

    static JobSpec sweep() {
        return new JobSpec("feather-3m", List.of(
                new Recipe.Gguf("Q4_K_M"),
                new Recipe.Gptq(4, 128, true, 0.01, 128, 512, true),
                new Recipe.Awq(4, 128, 64, 512),
                new Recipe.Nf4(64, true), new Recipe.Fp4(64, false),
                new Recipe.LlmInt8(6.0), new Recipe.Rtn(4, 32, false)),
                new EvalSpec(new EvalSpec.Perplexity("demo-stories", 256, 4),
                        new EvalSpec.Capacity(List.of("A100-40GB-PCIe", "L4"), 4096, "fp16"),
                        new EvalSpec.Kld(null, 256, null), new EvalSpec.MultipleChoice("demo-stories.hellaswag", 100)));
    }

    @Test
    void kldIsTrueOrAnObjectAndTakesThePerplexitySettings() {
        EvalSpec on = Json.MAPPER.readValue("{\"perplexity\":{\"text\":\"demo-stories\",\"ctx\":128,\"chunks\":8},\"kld\":true,"
                + "\"multipleChoice\":{\"tasks\":\"demo-stories.hellaswag\",\"limit\":50}}", EvalSpec.class);
        assertThat(on.kld()).isEqualTo(new EvalSpec.Kld(null, null, null));
        assertThat(on.kld().textOr(on.perplexity())).isEqualTo("demo-stories");
        assertThat(on.kld().ctxOr(on.perplexity())).isEqualTo(128);
        assertThat(on.kld().chunksOr(on.perplexity())).isEqualTo(8);
        assertThat(on.multipleChoice()).isEqualTo(new EvalSpec.MultipleChoice("demo-stories.hellaswag", 50));
        EvalSpec own = Json.MAPPER.readValue("{\"kld\":{\"text\":\"wiki\",\"ctx\":64}}", EvalSpec.class);
        assertThat(own.kld()).isEqualTo(new EvalSpec.Kld("wiki", 64, null));
        assertThat(own.kld().chunksOr(own.perplexity())).isZero();
        assertThat(Json.MAPPER.readValue("{\"kld\":false}", EvalSpec.class).kld()).isNull();
        List<String> errors = new java.util.ArrayList<>();
        new EvalSpec(null, null, new EvalSpec.Kld("../x", 2, null), new EvalSpec.MultipleChoice(null, -1)).validate("eval", errors);
        assertThat(errors).hasSize(4).anyMatch(e -> e.startsWith("eval.kld.text")).anyMatch(e -> e.startsWith("eval.kld.ctx"))
                .anyMatch(e -> e.startsWith("eval.multipleChoice.tasks")).anyMatch(e -> e.startsWith("eval.multipleChoice.limit"));
    }

    @Test
    void everyMessageRoundTripsWithTypeAndSchema() {
        Instant t = Instant.parse("2026-11-23T06:00:00Z");
        List<Message> all = List.of(
                new Message.JobSubmitted("m1", "j1", "t1", sweep(), t),
                new Message.JobCancelled("m2", "j1", "t1", t),
                new Message.TaskAssigned("m3", "k1", "j1", "t1", 2, Message.TaskKind.QUANTIZE, "feather-3m", new Recipe.Gguf("Q8_0"), null, null, 30),
                new Message.TaskAssigned("m4", "k2", "j1", "t1", 1, Message.TaskKind.EVAL, "feather-3m", null, "a1", sweep().eval(), 30),
                new Message.TaskStarted("m5", "k1", "j1", 2, "w1", "A100-40GB-PCIe", t),
                new Message.TaskProgress("m6", "k1", "j1", 2, 3, 8, "blk.3", 1.5, 2.5, 0.25),
                new Message.TaskHeartbeat("m7", "k1", "j1", 2, "w1", t),
                new Message.TaskSucceeded("m8", "k1", "j1", 2, "a1", 3.0, 0.5, Map.of("bytes", 1234.0)),
                new Message.TaskFailed("m9", "k1", "j1", 2, "needs 41.2 GiB, GPU has 40.0 GiB", false),
                new Message.JobStateChanged("m10", "j1", "t1", dev.featherweight.contracts.jobs.JobState.RUNNING, "k1", "block 3/8", t));
        for (Message m : all) {
            String json = Json.write(m);
            assertThat(json).contains("\"type\":\"" + m.getClass().getSimpleName() + "\"").contains("\"schema\":1");
            assertThat(Json.read(json)).isEqualTo(m);
        }
    }

    @Test
    void recipesUseTheMethodNameAsDiscriminator() {
        String json = Json.MAPPER.writeValueAsString(new Recipe.Gptq(4, 128, false, 0.01, 128, 512, true));
        assertThat(json).startsWith("{\"method\":\"gptq\"");
        Recipe r = Json.MAPPER.readValue("{\"method\":\"llm-int8\",\"threshold\":6.0}", Recipe.class);
        assertThat(r).isEqualTo(new Recipe.LlmInt8(6.0));
    }

    @Test
    void newerSchemaIsRefused() {
        String json = Json.write(new Message.JobCancelled("m2", "j1", "t1", Instant.EPOCH)).replace("\"schema\":1", "\"schema\":2");
        assertThatThrownBy(() -> Json.read(json)).hasMessageContaining("schema 2 is newer");
    }

    @Test
    void validSpecHasNoProblems() {
        assertThat(sweep().problems()).isEmpty();
    }

    @Test
    void everyProblemIsNamedWithItsPath() {
        JobSpec bad = new JobSpec("../etc", List.of(new Recipe.Gguf("Q4_K_X"), new Recipe.Gptq(5, 100, false, 2.0, 0, 4, true)),
                new EvalSpec(new EvalSpec.Perplexity("demo-stories", 4, 1), new EvalSpec.Capacity(List.of(), 0, "f8")));
        assertThat(bad.problems()).containsExactly(
                "modelId: required, 1-128 characters of letters, digits, '.', '_' or '-'",
                "recipes[0].fileType: Q4_K_X is not allowed; one of " + dev.featherweight.catalog.GgufFileType.names(),
                "recipes[1].bits: 5 is not allowed; one of [2, 3, 4, 8]",
                "recipes[1].groupSize: 100 is not allowed; one of [-1, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]",
                "recipes[1].damp: must be > 0 and <= 1, got 2.0",
                "recipes[1].calibrationSamples: must be >= 1 and <= 1048576, got 0",
                "recipes[1].calibrationSeqLen: must be >= 8 and <= 131072, got 4",
                "eval.perplexity.ctx: 4 is outside [8, 131072]",
                "eval.capacity.gpus: 1 to 64 GPU names from the catalog",
                "eval.capacity.ctx: 0 is outside [1, 2097152]",
                "eval.capacity.kvDtype: 'f8' is not allowed; one of [fp32, fp16, bf16, fp8, int8, int4, q8_0, q4_0]");
        assertThat(new JobSpec("m", List.of(), null).problems()).containsExactly("recipes: 1 to 32 recipes");
    }

    @Test
    void recipeParametersAreOptionalAndTheCatalogueFillsTheDefaults() {
        Recipe gptq = Json.MAPPER.readValue("{\"method\":\"gptq\",\"bits\":4}", Recipe.class);
        assertThat(gptq).isEqualTo(new Recipe.Gptq(4, null, null, null, null, null, null));
        assertThat(gptq.problems("r", null)).isEmpty();
        assertThat(gptq.resolve(null)).isEqualTo(new dev.featherweight.catalog.methods.GptqMethod.Resolved(4, 128, 0.01, false, true, 128, 2048));
        assertThat(Json.MAPPER.writeValueAsString(gptq)).isEqualTo("{\"method\":\"gptq\",\"bits\":4}"); // left out stays left out
        assertThat(gptq.label()).isEqualTo("gptq 4-bit g128");
        assertThat(new Recipe.Gguf("Q4_K_M").nominalBits()).isEqualTo(4);
    }

    @Test
    void recipesTheEngineCannotRunAreRefused() {
        assertThat(new JobSpec("m", List.of(new Recipe.Gguf("IQ5_XS"), new Recipe.Gptq(4, null, null, 0.0, null, null, null)), null).problems())
                .containsExactly("recipes[0].fileType: IQ5_XS is not allowed; one of " + dev.featherweight.catalog.GgufFileType.names(),
                        "recipes[1].damp: must be > 0 and <= 1, got 0.0");
    }
}
