package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.infer.SyntheticModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code fw synth}: a Llama-shaped HF folder with seeded random weights at a real model's size, for benchmarks. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Write a Llama-shaped model with seeded random weights (normal, std 0.02) at a real size.")
public final class SynthCommand implements Callable<Integer> {
    @Option(names = "--shape", required = true, description = "TinyLlama-1.1B, Llama-2-7B, Llama-2-13B, Llama-3-8B, Qwen2.5-0.5B, or a config.json")
    String shape;

    @Option(names = "--layers", description = "number of layers (default: the shape's)")
    Integer layers;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--dtype", defaultValue = "f32", description = "f32, f16 or bf16")
    String dtype;

    @Option(names = "--out", required = true, description = "output folder (must not exist)")
    Path out;

    @Option(names = "--tokenizer-from", description = "model folder to copy the tokenizer from (default: the repository's models/feather-3m)")
    Path tokenizerFrom;

    @Option(names = "--threads", description = "generator threads (default: all cores)")
    Integer threads;

    @Override
    public Integer call() throws Exception {
        SyntheticModel.Shape s = shape.endsWith(".json") ? fromConfig(Path.of(shape)) : SyntheticModel.shape(shape);
        if (layers != null) s = s.withLayers(layers);
        Path tok = tokenizerFrom != null ? tokenizerFrom : DemoModels.feather3m();
        try (Parallel pool = new Parallel(threads != null ? threads : Runtime.getRuntime().availableProcessors())) {
            SyntheticModel.write(s, seed, dtype, out, tok, pool);
        }
        System.out.println(out.toAbsolutePath());
        return 0;
    }

    private static SyntheticModel.Shape fromConfig(Path p) throws Exception {
        JsonNode j = new ObjectMapper().readTree(Files.readString(p));
        String type = j.path("model_type").asString("llama");
        int hidden = j.get("hidden_size").asInt();
        return new SyntheticModel.Shape(p.getFileName().toString(), type, hidden, j.get("intermediate_size").asInt(),
                j.get("num_hidden_layers").asInt(), j.get("num_attention_heads").asInt(),
                j.path("num_key_value_heads").asInt(j.get("num_attention_heads").asInt()), j.get("vocab_size").asInt(),
                j.path("rope_theta").asDouble(10000), j.path("rms_norm_eps").asDouble(1e-5),
                j.path("max_position_embeddings").asInt(2048), j.path("tie_word_embeddings").asBoolean(false), type.equals("qwen2"));
    }
}
