package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.formats.HellaSwagTasks;
import dev.featherweight.kernels.infer.HellaSwag;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.infer.Numerics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code fw hellaswag}: multiple-choice accuracy (acc_norm) on a HellaSwag-format task file, as llama-perplexity --hellaswag. */
@Command(name = "hellaswag", mixinStandardHelpOptions = true,
        description = "Multiple-choice accuracy (acc_norm) on a task file in llama-perplexity's HellaSwag format, scored as it scores it.")
public final class HellaSwagCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = ".gguf file, or a HF / GPTQ / AWQ / bnb folder")
    Path model;

    @Option(names = "--tasks", required = true, description = "task file: 6 lines per task (context, gold index 0-3, 4 endings)")
    Path tasks;

    @Option(names = "--limit", defaultValue = "0", description = "score only this many tasks, drawn as llama-perplexity draws them (default all)")
    int limit;

    @picocli.CommandLine.Mixin
    ScoringOptions scoring;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<HellaSwagTasks.Task> list = HellaSwagTasks.parse(Files.readString(tasks));
        Numerics n = scoring.numerics();
        try (Parallel pool = scoring.pool();
             LoadedModel lm = ModelLoader.open(model, scoring.tokenizer, pool)) {
            HellaSwag.Result r = HellaSwag.score(lm.model(), lm::encode, list, limit, n);
            if (json) {
                ObjectNode j = new ObjectMapper().createObjectNode();
                j.put("model", model.toString());
                j.put("tasksFile", tasks.toString());
                j.put("tasks", r.tasks());
                j.put("correct", r.correct());
                j.put("accuracy", r.accuracy());
                j.put("accuracyUnc", r.accuracyUnc());
                j.put("wilsonLow", r.wilsonLow());
                j.put("wilsonHigh", r.wilsonHigh());
                j.put("numerics", n.label());
                j.put("seconds", r.seconds());
                System.out.println(j);
            } else {
                System.out.printf(Locale.ROOT, "model     %s%n", model);
                System.out.printf(Locale.ROOT, "tasks     %d of %d (%s)%n", r.tasks(), list.size(), tasks);
                System.out.printf(Locale.ROOT, "acc_norm  %.8f%% +/- %.4f%%  (95%% Wilson [%.4f%%, %.4f%%]), %d right%n", 100 * r.accuracy(),
                        100 * r.accuracyUnc(), 100 * r.wilsonLow(), 100 * r.wilsonHigh(), r.correct());
                System.out.printf(Locale.ROOT, "time      %.1f s, numerics %s%n", r.seconds(), n.label());
            }
        }
        return 0;
    }

    /** {@code fw hellaswag-tasks}: writes tasks generated from a text. */
    @Command(name = "hellaswag-tasks", mixinStandardHelpOptions = true,
            description = "Generate HellaSwag-format tasks from any text: context = a sentence and a half, endings = the true rest and three rests of other stories' sentences.")
    public static final class Generate implements Callable<Integer> {
        @Option(names = "--text", required = true, description = "UTF-8 text; stories separated by blank lines (else one per line)")
        Path text;

        @Option(names = "--out", required = true, description = "task file to write")
        Path out;

        @Option(names = "--n", defaultValue = "400", description = "at most this many tasks (default ${DEFAULT-VALUE})")
        int n;

        @Option(names = "--seed", defaultValue = "20250220", description = "random seed (default ${DEFAULT-VALUE})")
        long seed;

        @Override
        public Integer call() throws Exception {
            List<HellaSwagTasks.Task> generated = HellaSwagTasks.generate(Files.readString(text), n, seed);
            if (generated.isEmpty()) throw new IllegalArgumentException(text + ": no task could be built (needs sentences of 8-24 words in at least 2 stories)");
            Files.writeString(out, HellaSwagTasks.format(generated));
            System.out.printf(Locale.ROOT, "%d tasks written to %s%n", generated.size(), out);
            return 0;
        }
    }
}
