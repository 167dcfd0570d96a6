package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.infer.Numerics;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The options every command that scores a model as llama-perplexity does shares ({@code fw kld}, {@code fw hellaswag}):
 * the tokenizer fallback, the threads and the numerics mode, llama.cpp's by default so the numbers compare with its.
 */
final class ScoringOptions {
    @Option(names = "--tokenizer", description = "folder with tokenizer.json when the model file has none usable")
    Path tokenizer;

    @Option(names = "--threads", description = "threads (default: all cores)")
    Integer threads;

    @Option(names = "--numerics", defaultValue = "llamacpp-kvf16",
            description = "llamacpp-kvf16 (default: llama.cpp's CPU backend as built for AVX-512, f16 KV cache), llamacpp (f32 KV cache) "
                    + "or fp32; -avx2 after a llamacpp mode: as built for AVX2 (8-float vectors)")
    String numerics;

    Numerics numerics() {
        return Numerics.parse(numerics);
    }

    Parallel pool() {
        return new Parallel(threads != null ? threads : Runtime.getRuntime().availableProcessors());
    }
}
