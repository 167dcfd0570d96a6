package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.formats.HellaSwagTasks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * fw hellaswag against llama-perplexity --hellaswag on ../shared/reference/mc/ (400 tasks generated from
 * dev.tinystories): the same evaluation order, the same final acc_norm and the same tasks right and wrong.
 */
class HellaSwagTest {
    static final Path MC = SharedData.shared("reference/mc");

    static JsonNode reference(String type) {
        return new ObjectMapper().readTree(MC.resolve("feather-3m-" + type + ".dev.tinystories.hellaswag.json").toFile());
    }

    @Test
    void drawsTasksInLlamaPerplexitysOrder() {
        JsonNode order = reference("F32").get("order");
        int[] ours = HellaSwag.drawOrder(400, 400);
        assertThat(ours).hasSize(order.size());
        for (int k = 0; k < ours.length; k++) assertThat(ours[k]).as("position %d", k).isEqualTo(order.get(k).asInt());
        // a limit takes the first draws of the same sequence
        assertThat(HellaSwag.drawOrder(400, 10)).containsExactly(java.util.Arrays.copyOf(ours, 10));
    }

    @ParameterizedTest
    @CsvSource({"F32, 0", "Q4_K_M, 1", "Q2_K, 0"})
    void accuracyAndPerTaskResultsEqualLlamaPerplexity(String type, int tasksAllowedToDiffer) throws Exception {
        JsonNode ref = reference(type);
        List<HellaSwagTasks.Task> tasks = HellaSwagTasks.parse(Files.readString(MC.resolve("dev.tinystories.hellaswag.txt")));
        assertThat(tasks).hasSize(400);
        HellaSwag.Result r;
        try (Parallel pool = new Parallel(2);
             LoadedModel lm = ModelLoader.open(SharedData.shared("golden/gguf/feather-3m-" + type + ".gguf"), SharedData.demoModel("feather-3m"), pool)) {
            r = HellaSwag.score(lm.model(), lm::encode, tasks, 0, Numerics.LLAMACPP_KV_F16);
        }
        List<Integer> differing = new ArrayList<>();
        for (JsonNode t : ref.get("per_task")) {
            int k = t.get("position").asInt() - 1;
            assertThat(r.order()[k]).isEqualTo(t.get("task").asInt());
            if (r.correctInOrder()[k] != t.get("correct").asBoolean()) differing.add(t.get("task").asInt());
        }
        System.out.printf("%s: acc_norm %.8f%% (%d right) vs llama-perplexity %s%% (%s right), tasks judged differently %s, %.1f s%n", type,
                100 * r.accuracy(), r.correct(), ref.get("final_acc_norm_printed").asString(), ref.get("n_correct").asString(), differing, r.seconds());
        assertThat(r.tasks()).isEqualTo(400);
        // Q4_K_M: with its quantized products bit-identical to ggml's but the float parts not yet, task 128's endings
        // score within rounding of each other and one flips (the tree before judged all 400 alike): at most one task
        assertThat(differing).hasSizeLessThanOrEqualTo(tasksAllowedToDiffer);
        assertThat(Math.abs(r.correct() - ref.get("n_correct").asInt())).isLessThanOrEqualTo(tasksAllowedToDiffer);
        if (tasksAllowedToDiffer == 0) {
            assertThat(String.format(java.util.Locale.ROOT, "%.8f", 100 * r.accuracy())).isEqualTo(ref.get("final_acc_norm_printed").asString());
        }
    }

    @Test
    void generatesTasksFromAnyText() throws Exception {
        String text = Files.readString(SharedData.demoModel("feather-3m").resolveSibling("demo-stories.txt"));
        List<HellaSwagTasks.Task> a = HellaSwagTasks.generate(text, 50, 7), b = HellaSwagTasks.generate(text, 50, 7);
        assertThat(a).isEqualTo(b).isNotEmpty();
        assertThat(HellaSwagTasks.parse(HellaSwagTasks.format(a))).isEqualTo(a);
        for (HellaSwagTasks.Task t : a) {
            String truth = t.endings().get(t.gold());
            // the context and its true ending are a sentence and a half of the text, verbatim up to whitespace
            assertThat(text.replaceAll("\\s+", " ")).contains(t.context() + " " + truth);
            assertThat(t.endings()).doesNotHaveDuplicates();
        }
        // the file kept in the repository is what the generator writes for the demo text
        Path kept = SharedData.repoRoot().resolve("models/demo-stories.hellaswag.txt");
        assertThat(Files.readString(kept)).isEqualTo(HellaSwagTasks.format(HellaSwagTasks.generate(text, 400, 20250220)));
    }
}
