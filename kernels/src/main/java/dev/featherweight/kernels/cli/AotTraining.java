package dev.featherweight.kernels.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The workload that trains fw's JDK AOT cache: bin/fw runs it once after each build in a JVM started with
 * {@code -XX:AOTCacheOutput}, so the classes it loads and links (picocli, Jackson, the GGUF writer, every block codec,
 * the forward pass) and their method profiles are in the cache every later {@code fw} starts from. It runs the
 * commands a user runs, in one JVM, on the repository's feather-3m: convert to GGUF F32, quantize that file to each
 * llama.cpp file type, a calibrated-free method folder, a short perplexity and an inspect. Output is discarded.
 *
 * <p>Usage: {@code AotTraining MODEL_FOLDER TEXT_FILE}.
 */
public final class AotTraining {
    /** Each GGUF file type once: each codec's classes and its hot loops get profiled. */
    private static final List<String> TYPES = List.of("Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K",
            "F16", "BF16");

    private AotTraining() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) throw new IllegalArgumentException("usage: AotTraining MODEL_FOLDER TEXT_FILE");
        String model = args[0], text = args[1];
        Path tmp = Files.createTempDirectory("fw-aot-training");
        PrintStream out = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        List<String> failed = new ArrayList<>();
        try {
            String f32 = tmp.resolve("model-F32.gguf").toString();
            run(failed, "quantize", "--model", model, "--type", "F32", "--out", f32);
            for (String type : TYPES) run(failed, "quantize", "--model", f32, "--type", type, "--out", tmp.resolve("model-" + type + ".gguf").toString());
            run(failed, "quantize", "--model", model, "--method", "rtn", "--out", tmp.resolve("rtn").toString());
            run(failed, "perplexity", "--model", tmp.resolve("model-Q4_K_M.gguf").toString(), "--tokenizer", model, "--text", text,
                    "--ctx", "128", "--chunks", "2");
            run(failed, "perplexity", "--model", model, "--text", text, "--ctx", "128", "--chunks", "2");
            run(failed, "inspect", model);
        } finally {
            System.setOut(out);
            try (Stream<Path> files = Files.walk(tmp)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        // a training run that failed trains the wrong paths: say so (bin/fw then keeps no cache)
        if (!failed.isEmpty()) {
            System.err.println("fw AOT training: failed: " + failed);
            System.exit(1);
        }
    }

    private static void run(List<String> failed, String... args) {
        if (Fw.run(args) != 0) failed.add(String.join(" ", args));
    }
}
