package dev.featherweight.eval;

import dev.featherweight.worker.SimulatedGpu;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Capacity from config.json: KV bytes per token = 2 (K and V) × layers × kv heads × head dim × bytes per
 * element of the KV dtype; tokens that fit = (device memory − weights) / that. Perplexity is delegated to
 * the kernels once their inference lands; until then {@link #supportsPerplexity} is false.
 */
public class BasicEvaluationEngine implements EvaluationEngine {

    @Override
    public boolean supportsPerplexity(Path model) {
        return false;
    }

    @Override
    public double perplexity(Path model, Path text, int ctx, int chunks) {
        throw new UnsupportedOperationException("perplexity");
    }

    static double kvElementBytes(String dtype) {
        return switch (dtype) {
            case "f32" -> 4;
            case "f16", "bf16" -> 2;
            case "q8_0" -> 34.0 / 32; // 32 int8 + one f16 scale per block
            case "q4_0" -> 18.0 / 32; // 32 nibbles + one f16 scale per block
            default -> throw new IllegalArgumentException("kv dtype " + dtype);
        };
    }

    @Override
    public List<CapacityRow> capacity(Path sourceModel, long weightBytes, List<String> gpus, int ctx, String kvDtype) throws IOException {
        JsonNode c = JsonMapper.shared().readTree(Files.readString(sourceModel.resolve("config.json")));
        long layers = c.path("num_hidden_layers").asLong();
        long heads = c.path("num_attention_heads").asLong();
        long kvHeads = c.path("num_key_value_heads").asLong(heads);
        long headDim = c.path("head_dim").asLong(c.path("hidden_size").asLong() / heads);
        long kvPerToken = (long) Math.ceil(2.0 * layers * kvHeads * headDim * kvElementBytes(kvDtype));
        List<CapacityRow> rows = new ArrayList<>();
        for (String name : gpus) {
            SimulatedGpu g = SimulatedGpu.named(name);
            long free = Math.max(0, g.memoryBytes() - weightBytes);
            long tokens = free / kvPerToken;
            rows.add(new CapacityRow(g.name(), g.memoryBytes(), weightBytes, kvPerToken, tokens, tokens / ctx));
        }
        return rows;
    }

    @Override
    public String version() {
        return "featherweight-eval (capacity from config.json)";
    }
}
