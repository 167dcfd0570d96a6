package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.infer.LlamaSession;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.core.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code fw generate}: greedy continuation of a prompt (the prompt processed as one batch, then token by token). */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Greedy text generation.")
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face folder or .gguf file")
    Path model;

    @Option(names = "--prompt", defaultValue = "", description = "prompt text (BOS is added when the model adds it)")
    String prompt;

    @Option(names = "--tokens", defaultValue = "64", description = "tokens to generate")
    int tokens;

    @Option(names = "--tokenizer", description = "folder with tokenizer.json when the model file has none usable")
    Path tokenizer;

    @Option(names = "--threads")
    Integer threads;

    @Option(names = "--stats", description = "print prompt/generation speed to stderr")
    boolean stats;

    @Override
    public Integer call() throws Exception {
        try (Parallel pool = new Parallel(threads != null ? threads : Runtime.getRuntime().availableProcessors());
             LoadedModel lm = ModelLoader.open(model, tokenizer, pool)) {
            int[] prompt = lm.encode(this.prompt);
            if (prompt.length == 0) prompt = new int[]{lm.model().config().bosId()};
            var c = lm.model().config();
            int total = prompt.length + tokens;
            LlamaSession s = lm.model().newSession(total);
            int[] out = Arrays.copyOf(prompt, total);
            long t0 = System.nanoTime();
            float[] logits = s.forward(prompt, 0, prompt.length, 0, prompt.length - 1);
            long t1 = System.nanoTime();
            int n = prompt.length;
            for (int i = 0; i < tokens; i++) {
                int next = argmax(logits, c.vocab());
                out[n++] = next;
                if (next == c.eosId()) break;
                if (i + 1 < tokens) logits = s.forward(out, n - 1, 1, n - 1, 0);
            }
            long t2 = System.nanoTime();
            System.out.println(lm.decode(Arrays.copyOf(out, n)));
            if (stats) {
                System.err.printf(Locale.ROOT, "prompt %d tokens %.1f tok/s, generated %d tokens %.1f tok/s%n", prompt.length,
                        prompt.length / ((t1 - t0) / 1e9), n - prompt.length, (n - prompt.length) / ((t2 - t1) / 1e9));
            }
        }
        return 0;
    }

    static int argmax(float[] logits, int vocab) {
        int best = 0;
        for (int i = 1; i < vocab; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
