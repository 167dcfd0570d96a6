package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.infer.LlamaSession;
import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.infer.Numerics;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.infer.Perplexity;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code fw perplexity}: perplexity of a text or token file, as llama.cpp, the HF sliding recipe, or plain chunks. */
@Command(name = "perplexity", mixinStandardHelpOptions = true,
        description = "Perplexity of a model on a text (tokenized with the model's tokenizer, BOS first) or a token file.")
public final class PerplexityCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Hugging Face folder or .gguf file")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", description = "UTF-8 text file, tokenized whole with BOS (as llama-perplexity does)")
        Path text;
        @Option(names = "--tokens", description = "little-endian uint32 token ids")
        Path tokens;
    }

    @Option(names = "--tokenizer", description = "folder with tokenizer.json when the model file has none usable (e.g. a .gguf)")
    Path tokenizer;

    @Option(names = "--ctx", defaultValue = "256", description = "context (chunk / window) length, default ${DEFAULT-VALUE}")
    int ctx;

    @Option(names = "--chunks", defaultValue = "-1", description = "at most this many chunks (default all)")
    int chunks;

    @Option(names = "--mode", defaultValue = "llamacpp", description = "llamacpp, sliding or chunks (default ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--stride", defaultValue = "0", description = "sliding mode stride (default ctx/2)")
    int stride;

    @Option(names = "--max-tokens", defaultValue = "0", description = "use only the first N tokens")
    int maxTokens;

    @Option(names = "--threads", description = "threads (default: all cores)")
    Integer threads;

    @Option(names = "--numerics", defaultValue = "fp32",
            description = "fp32 (default), llamacpp (llama.cpp's CPU backend as built for AVX-512, f32 KV) or llamacpp-kvf16 (also its "
                    + "default f16 KV cache); -avx2 after a llamacpp mode: as built for AVX2")
    String numerics;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Option(names = "--progress", description = "print the running value per chunk to stderr")
    boolean progress;

    @Override
    public Integer call() throws Exception {
        Perplexity.Mode m = Perplexity.Mode.parse(mode);
        try (Parallel pool = new Parallel(threads != null ? threads : Runtime.getRuntime().availableProcessors());
             LoadedModel lm = ModelLoader.open(model, tokenizer, pool)) {
            // the session at ctx positions, and the input as text (UTF-16), bytes and token ids
            long inputBytes = Files.size(this.input.tokens != null ? this.input.tokens : this.input.text);
            JobHeap.require(model, "perplexity at ctx " + ctx, LlamaSession.heapBytes(lm.model().config(), ctx) + 8 * inputBytes);
            int[] ids = input.tokens != null ? readTokens(input.tokens) : lm.encode(Files.readString(input.text));
            if (maxTokens > 0 && ids.length > maxTokens) ids = Arrays.copyOf(ids, maxTokens);
            var cfg = lm.model().config();
            Perplexity.Options o = new Perplexity.Options(m, ctx, chunks, stride, cfg.addBos(), cfg.bosId(), Numerics.parse(numerics));
            int[] n = {0};
            Perplexity.Result r = Perplexity.run(lm.model(), ids, o, progress ? v -> System.err.printf(Locale.ROOT, "[%d]%.4f,", ++n[0], v) : null);
            if (progress) System.err.println();
            if (json) {
                ObjectNode j = new ObjectMapper().createObjectNode();
                j.put("model", model.toString());
                j.put("mode", r.mode());
                j.put("ctx", r.ctx());
                j.put("chunks", r.chunks());
                j.put("perplexity", r.perplexity());
                j.put("perplexityError", r.perplexityError());
                j.put("nll", r.nll());
                j.put("tokens", r.tokensScored());
                j.put("tokensInput", ids.length);
                j.put("tokensEvaluated", r.tokensEvaluated());
                j.put("seconds", r.seconds());
                j.put("tokensPerSecond", r.tokensPerSecond());
                j.put("threads", pool.threads());
                j.put("numerics", o.numerics().label());
                var run = j.putArray("running");
                for (double v : r.running()) run.add(v);
                System.out.println(j);
            } else {
                System.out.printf(Locale.ROOT, "model       %s%n", model);
                System.out.printf(Locale.ROOT, "mode        %s, ctx %d, %d chunks, numerics %s%n", r.mode(), r.ctx(), r.chunks(), o.numerics().label());
                // llama-perplexity's own line: PPL and the standard error of the mean NLL times PPL
                System.out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f%n", r.perplexity(), r.perplexityError());
                System.out.printf(Locale.ROOT, "mean NLL    %.6f%n", r.nll());
                System.out.printf(Locale.ROOT, "tokens      %d scored, %d evaluated, %d in input%n", r.tokensScored(), r.tokensEvaluated(), ids.length);
                System.out.printf(Locale.ROOT, "time        %.2f s, %.0f tokens/s (%d threads)%n", r.seconds(), r.tokensPerSecond(), pool.threads());
            }
        }
        return 0;
    }

    static int[] readTokens(Path p) throws IOException {
        long size = Files.size(p);
        if (size % 4 != 0) throw new IOException(p + ": " + size + " bytes is not a whole number of uint32 token ids");
        ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        int[] t = new int[(int) (size / 4)];
        for (int i = 0; i < t.length; i++) {
            long v = bb.getInt() & 0xFFFFFFFFL;
            if (v > Integer.MAX_VALUE) throw new IOException(p + ": token id " + v + " at index " + i + " is out of range");
            t[i] = (int) v;
        }
        return t;
    }
}
