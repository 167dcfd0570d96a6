package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.infer.LoadedModel;
import dev.featherweight.kernels.infer.ModelLoader;
import dev.featherweight.kernels.infer.Numerics;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.pipeline.ImatrixCollector;
import dev.featherweight.kernels.formats.gguf.ImportanceMatrix;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code fw imatrix}: llama-imatrix's importance matrix, in its file format, for {@code fw quantize --imatrix}. */
@Command(name = "imatrix", mixinStandardHelpOptions = true,
        description = "Compute an importance matrix (mean squared input activation per column of every matmul) over a calibration text.")
public final class ImatrixCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "Hugging Face folder or .gguf file")
    Path model;

    @Option(names = "--text", required = true, description = "calibration text (tokenized whole, BOS first)")
    Path text;

    @Option(names = "--ctx", defaultValue = "512", description = "chunk length (default ${DEFAULT-VALUE}, as llama-imatrix)")
    int ctx;

    @Option(names = "--chunks", defaultValue = "-1", description = "at most this many chunks (default all)")
    int chunks;

    @Option(names = "--out", required = true, description = "output file (llama-imatrix .dat format)")
    Path out;

    @Option(names = "--tokenizer", description = "folder with tokenizer.json when the model has none")
    Path tokenizer;

    @Option(names = "--numerics", defaultValue = "llamacpp-kvf16",
            description = "fp32, llamacpp or llamacpp-kvf16 (default ${DEFAULT-VALUE}: what llama-imatrix computes with its default f16 KV cache)")
    String numerics;

    @Option(names = "--threads", description = "threads (default: all cores)")
    Integer threads;

    @Override
    public Integer call() throws IOException {
        Parallel pool = new Parallel(threads != null ? threads : Runtime.getRuntime().availableProcessors());
        long t0 = System.nanoTime();
        try (LoadedModel m = ModelLoader.open(model, tokenizer, pool)) {
            int[] tokens = m.encode(Files.readString(text));
            var err = spec.commandLine().getErr();
            ImportanceMatrix im = ImatrixCollector.compute(m.model(), tokens, ctx, chunks, text.toString(), Numerics.parse(numerics),
                    done -> { if (done % 100 == 0) err.printf(Locale.ROOT, "fw imatrix: %d chunks%n", done); });
            im.write(out);
            spec.commandLine().getOut().printf(Locale.ROOT, "%s  %d entries  %d chunks  %.1f s%n", out, im.entries().size(), im.chunks(), (System.nanoTime() - t0) / 1e9);
        } finally {
            pool.close();
        }
        return 0;
    }
}
